// MemoryMonitor: the alarm flips at the watermark, and reads trigger extra checks sooner the
// closer memory is to it.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryMonitor, parseWatermark, type MemoryUse } from '../src/memory-monitor.js';

const MiB = 1024 * 1024;
let monitor: MemoryMonitor | null = null;
afterEach(() => { monitor?.stop(); monitor = null; });

function setup(limit: number, used: { v: number }) {
  const changes: boolean[] = [];
  let measured = 0;
  monitor = new MemoryMonitor(limit, (alarm) => changes.push(alarm), 3_600_000, (): MemoryUse => {
    measured++;
    return { used: used.v, rss: used.v };
  });
  monitor.start();
  return { m: monitor, changes, measured: () => measured };
}

describe('MemoryMonitor', () => {
  it('sets the alarm above the watermark and clears it below', () => {
    const used = { v: 10 * MiB };
    const { m, changes } = setup(100 * MiB, used);
    m.check();
    used.v = 120 * MiB;
    m.check();
    m.check();
    used.v = 50 * MiB;
    m.check();
    expect(changes).toEqual([true, false]);
  });

  it('far below the watermark, measures again only after a quarter of the headroom was read', () => {
    const used = { v: 200 * MiB };
    const { m, measured } = setup(1000 * MiB, used);
    m.check(); // headroom 800 MiB: next check after 200 MiB read
    const base = measured();
    for (let i = 0; i < 24; i++) m.noteRead(8 * MiB); // 192 MiB
    expect(measured()).toBe(base);
    m.noteRead(9 * MiB);
    expect(measured()).toBe(base + 1);
  });

  it('near the watermark, measures every 8 MiB read', () => {
    const used = { v: 99 * MiB };
    const { m, measured } = setup(100 * MiB, used);
    m.check();
    const base = measured();
    for (let i = 0; i < 4; i++) m.noteRead(8 * MiB + 1);
    expect(measured()).toBe(base + 4);
  });

  it('parses fractions of RAM and absolute sizes', () => {
    expect(parseWatermark('0.4', 1000)).toBe(400);
    expect(parseWatermark('512MB', 0)).toBe(512e6);
    expect(parseWatermark('2GiB', 0)).toBe(2 * 1024 ** 3);
    expect(() => parseWatermark('lots', 0)).toThrow(/invalid memory high watermark/);
  });
});
