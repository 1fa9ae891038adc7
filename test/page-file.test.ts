// The transient page file: records written and read back (alone and in runs), space reclaimed
// as records are released, segments rolled and the written one truncated when it empties.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Message } from '../src/core/message.js';
import { decodeRecord } from '../src/core/message-record.js';
import { PageFile } from '../src/core/page-file.js';

const dirs: string[] = [];
const dir = () => { const d = mkdtempSync(join(tmpdir(), 'warren-page-')); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const msg = (i: number, size = 16) => new Message('ex', `rk.${i}`, Buffer.from([0x10, 0x00, 1]), Buffer.alloc(size, i & 0xff));

describe('PageFile', () => {
  it('reads back what it wrote, alone and as one run, and deletes its files when closed', () => {
    const d = dir();
    const f = new PageFile(d);
    const refs: [number, number, number][] = [];
    for (let i = 0; i < 1000; i++) { const off = f.append(msg(i)); refs.push([f.lastSeg, off, f.lastLen]); }
    const m = f.read(...refs[500]!);
    expect([m.exchange, m.routingKey, m.body.equals(msg(500).body), m.properties.equals(msg(500).properties)]).toEqual(['ex', 'rk.500', true, true]);
    const [seg, start] = refs[0]!;
    const last = refs[999]!;
    const buf = f.readRun(seg, start, last[1] + last[2] - start);
    let at = 0;
    for (let i = 0; i < 1000; i++) {
      const r = decodeRecord(buf, at, at + refs[i]![2]);
      expect(r.routingKey).toBe(`rk.${i}`);
      at += refs[i]![2];
    }
    expect(readdirSync(d)).toHaveLength(1);
    f.close();
    expect(readdirSync(d)).toHaveLength(0);
  });

  it('rolls segments, deletes an emptied one and truncates the written one (wrap-around)', () => {
    const d = dir();
    const f = new PageFile(d, 4096);
    let live: [number, number, number][] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 100; i++) { const off = f.append(msg(i, 100)); live.push([f.lastSeg, off, f.lastLen]); }
      expect(f.segmentCount).toBeGreaterThan(1);
      // Consume all but the newest ten, oldest first, checking each body.
      while (live.length > 10) {
        const [s, o, l] = live.shift()!;
        expect(f.read(s, o, l).body[0]).toBe(Number(f.read(s, o, l).routingKey.slice(3)) & 0xff);
        f.release(s);
      }
      expect(f.segmentCount).toBeLessThanOrEqual(2);
      expect(f.diskBytes).toBeLessThanOrEqual(2 * 4096);
    }
    for (const [s] of live) f.release(s);
    live = [];
    expect(f.diskBytes).toBe(0);
    expect(readdirSync(d).length).toBeLessThanOrEqual(1);
    // The emptied written segment starts again at offset 0.
    expect(f.append(msg(1))).toBe(0);
    f.close();
  });

  it('writes a record larger than its write buffer straight through', () => {
    const f = new PageFile(dir());
    f.append(msg(1));
    const off = f.append(msg(7, 1024 * 1024));
    const m = f.read(f.lastSeg, off, f.lastLen);
    expect(m.body.length).toBe(1024 * 1024);
    expect(m.body.every((b) => b === 7)).toBe(true);
    f.clear();
    expect(f.diskBytes).toBe(0);
    f.close();
  });
});
