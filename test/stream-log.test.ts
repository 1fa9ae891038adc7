// The stream segment log on its own: appends and reads, seeking by offset and time, segment
// roll-over, retention by bytes and age (whole segments, offsets kept), recovery and a torn tail.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CorruptSegment, SegmentLog, type Cursor } from '../src/core/queue/stream/segment-log.js';

const dirs: string[] = [];
const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-seglog-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

const limits = (o: Partial<{ maxBytes: number; maxAgeMs: number; segmentBytes: number }> = {}) =>
  ({ maxBytes: -1, maxAgeMs: -1, segmentBytes: 10_000, ...o });
const props = Buffer.from([0, 0]);
function fill(log: SegmentLog, n: number, ts = (i: number) => 1000 + i): void {
  for (let i = 0; i < n; i++) log.append('x', `rk${i}`, props, Buffer.from(`m${i}`.padEnd(100, '.')), ts(i));
}
/** A directory with a closed log of `n` messages, and its segment files in order. */
function written(n: number, segmentBytes = 10_000): { dir: string; segs: string[] } {
  const dir = tmp();
  const log = new SegmentLog(dir, limits({ segmentBytes }));
  fill(log, n);
  log.close();
  return { dir, segs: fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort() };
}
function bodies(log: SegmentLog, c: Cursor, max = 1e9): string[] {
  const out: string[] = [];
  for (let m = log.read(c); m !== null && out.length < max; m = log.read(c)) out.push(m.body.toString().replace(/\.+$/, ''));
  return out;
}

describe('segment log', () => {
  it('appends, rolls segments, reads from first, seeks by offset and by time', () => {
    const log = new SegmentLog(tmp(), limits());
    fill(log, 1000);
    expect(log.segments.length).toBeGreaterThan(5);
    expect(log.count).toBe(1000);
    const all = bodies(log, log.cursorAtFirst());
    expect(all.length).toBe(1000);
    expect(all[999]).toBe('m999');
    expect(bodies(log, log.cursorAt(537), 2)).toEqual(['m537', 'm538']);
    expect(bodies(log, log.cursorAtTime(1000 + 777), 1)).toEqual(['m777']);
    expect(bodies(log, log.cursorAtNext())).toEqual([]);
    const m = log.read(log.cursorAt(5))!;
    expect([m.exchange, m.routingKey]).toEqual(['x', 'rk5']);
    log.close();
  });

  it('retention drops whole head segments by bytes and by age; offsets are never reused', () => {
    const log = new SegmentLog(tmp(), limits({ maxBytes: 30_000 }));
    fill(log, 2000);
    expect(log.totalBytes).toBeLessThanOrEqual(30_000 + 2 * 10_000);
    expect(log.first).toBeGreaterThan(0);
    expect(log.nextOffset).toBe(2000);
    const c = log.cursorAtFirst();
    expect(log.read(c)!.body.toString()).toMatch(new RegExp(`^m${log.first}\\.`));
    log.close();
    const aged = new SegmentLog(tmp(), limits({ maxAgeMs: 1000 }));
    fill(aged, 500, (i) => (i < 250 ? Date.now() - 10_000 : Date.now()));
    expect(aged.first).toBeGreaterThan(100);
    expect(aged.first).toBeLessThanOrEqual(250);
    aged.close();
  });

  it('recovers after reopen, cuts a torn tail, and goes on from the last offset', () => {
    const { dir, segs } = written(300);
    const last = segs.pop()!;
    fs.appendFileSync(path.join(dir, last), Buffer.from([0, 0, 1, 0, 1, 2, 3])); // a torn record
    fs.rmSync(path.join(dir, last.replace('.seg', '.idx'))); // and a lost index
    const log = new SegmentLog(dir, limits());
    expect(log.nextOffset).toBe(300);
    expect(bodies(log, log.cursorAt(250), 1)).toEqual(['m250']);
    log.append('x', 'k', props, Buffer.from('new'), 5000);
    expect(bodies(log, log.cursorAt(300))).toEqual(['new']);
    log.close();
  });

  it('a record cut short at the end of the newest segment (SIGKILL mid-write) is cut at recovery and reported', () => {
    const { dir, segs } = written(50, 1_000_000);
    const seg = path.join(dir, segs.pop()!);
    const size = fs.statSync(seg).size;
    fs.truncateSync(seg, size - 30); // the last record loses its tail
    const reports: string[] = [];
    const log = new SegmentLog(dir, limits({ segmentBytes: 1_000_000 }), (level, msg) => reports.push(`${level} ${msg}`));
    expect(log.nextOffset).toBe(49);
    expect(fs.statSync(seg).size).toBeLessThan(size - 30);
    expect(reports).toEqual([expect.stringMatching(/^warn .*torn tail/)]);
    expect(bodies(log, log.cursorAtFirst()).length).toBe(49);
    log.close();
  });

  it('a corrupted record in the middle is found by its CRC: reported once, nothing from it on is served, no garbage', () => {
    const { dir, segs: files } = written(500);
    const victim = path.join(dir, files[1]!);
    const first1 = Number(files[1]!.slice(0, 20));
    const buf = fs.readFileSync(victim);
    buf[buf.length >> 1]! ^= 0xff; // one flipped byte in a body in the middle of the second segment
    fs.writeFileSync(victim, buf);
    const reports: string[] = [];
    const log = new SegmentLog(dir, limits(), (level, msg, meta) => reports.push(`${level} ${msg} ${String(meta.file)}`));
    expect(log.nextOffset).toBe(500);
    expect(fs.statSync(victim).size).toBe(buf.length); // not truncated: it is not a torn tail
    const c = log.cursorAtFirst();
    const got: string[] = [];
    let err: unknown = null;
    try { for (let m = log.read(c); m !== null; m = log.read(c)) got.push(m.body.toString().replace(/\.+$/, '')); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CorruptSegment);
    expect(got.length).toBeGreaterThanOrEqual(first1);
    expect(got.length).toBeLessThan(first1 + 100);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => `m${i}`)); // every one served is intact
    expect(() => log.read(c)).toThrow(CorruptSegment);
    expect(reports.filter((r) => r.startsWith('error')).length).toBe(1);
    expect(reports[0]).toContain(victim);
    // Later segments are still there for readers attaching past the damage.
    expect(bodies(log, log.cursorAt(450), 1)).toEqual(['m450']);
    log.close();
  });

  it('a record damaged on disk while the log is open fails its CRC on first read', () => {
    const dir = tmp();
    const log = new SegmentLog(dir, limits({ segmentBytes: 1_000_000 }));
    fill(log, 20);
    log.flushWrites();
    const seg = path.join(dir, fs.readdirSync(dir).filter((f) => f.endsWith('.seg'))[0]!);
    const fd = fs.openSync(seg, 'r+');
    fs.writeSync(fd, Buffer.from('XX'), 0, 2, 1300);
    fs.closeSync(fd);
    const c = log.cursorAtFirst();
    expect(() => { while (log.read(c) !== null); }).toThrow(CorruptSegment);
    expect(c.next).toBeLessThan(20);
    log.close();
  });
});
