// WalSync: commit callbacks (publisher confirms) run only after an fsync that started after
// their commit has completed, in commit order, one fsync in flight at a time (or as many as
// the store asks for: the overlap logic is tested with two).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WalSync } from '../src/store/wal-sync.js';

type FsyncCb = (err: NodeJS.ErrnoException | null) => void;

const dirs: string[] = [];

function setup(maxInFlight = 2) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-walsync-'));
  dirs.push(dir);
  const wal = path.join(dir, 'warren.db-wal');
  fs.writeFileSync(wal, 'frames');
  const pending: FsyncCb[] = [];
  const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((_fd: number, cb: FsyncCb) => { pending.push(cb); }) as never);
  const syncSpy = vi.spyOn(fs, 'fdatasyncSync');
  const errors: Error[] = [];
  const w = new WalSync(wal, (e) => errors.push(e), undefined, maxInFlight);
  return { w, pending, spy, syncSpy, errors, dir };
}

afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('WalSync', () => {
  it('by default one fsync is in flight: every commit made meanwhile joins the next group', () => {
    const { w, pending } = setup(1);
    const order: string[] = [];
    w.committed(true, [() => order.push('c1')], null);
    w.committed(true, [() => order.push('c2')], null);
    w.committed(true, [() => order.push('c3')], null);
    expect(pending).toHaveLength(1);
    pending.shift()!(null);
    expect(order).toEqual(['c1']);
    expect(pending).toHaveLength(1); // c2 and c3 in one group fsync
    pending.shift()!(null);
    expect(order).toEqual(['c1', 'c2', 'c3']);
    expect(pending).toHaveLength(0);
  });

  it('holds callbacks until the fsync completes; two overlap, later commits wait for the next', () => {
    const { w, pending } = setup();
    const order: string[] = [];
    w.committed(true, [() => order.push('c1')], null);
    expect(pending).toHaveLength(1);
    w.committed(true, [() => order.push('c2a'), () => order.push('c2b')], null);
    expect(pending).toHaveLength(2); // c2's fsync need not wait for c1's
    w.committed(false, [() => order.push('c3')], null); // no writes, but behind c2's commit
    w.committed(true, [() => order.push('c4')], null);
    expect(pending).toHaveLength(2); // two in flight at most: c4 waits
    expect(order).toEqual([]);
    pending.shift()!(null);
    expect(order).toEqual(['c1']);
    expect(pending).toHaveLength(2); // c4's fsync started
    pending.shift()!(null);
    expect(order).toEqual(['c1', 'c2a', 'c2b', 'c3']);
    pending.shift()!(null);
    expect(order).toEqual(['c1', 'c2a', 'c2b', 'c3', 'c4']);
    expect(pending).toHaveLength(0);
  });

  it('a later fsync that completes first waits for the earlier one: callbacks stay in order', () => {
    const { w, pending } = setup();
    const order: string[] = [];
    w.committed(true, [() => order.push('a')], null);
    w.committed(true, [() => order.push('b')], null);
    pending.pop()!(null);
    expect(order).toEqual([]);
    pending.pop()!(null);
    expect(order).toEqual(['a', 'b']);
  });

  it('fsyncs after a commit even when nobody waits (declarations must survive power loss too)', () => {
    const { w, pending } = setup();
    w.committed(true, [], null);
    expect(pending).toHaveLength(1);
    pending.shift()!(null);
    // Callbacks with nothing new to sync run at once.
    let ran = false;
    w.committed(false, [() => { ran = true; }], null);
    expect(ran).toBe(true);
  });

  it('passes a failed commit or fsync on to exactly its callbacks, in order', () => {
    const { w, pending } = setup();
    const got: string[] = [];
    w.committed(true, [(e) => got.push(`a:${e?.message ?? 'ok'}`)], null);
    w.committed(false, [(e) => got.push(`b:${e?.message ?? 'ok'}`)], new Error('disk full'));
    pending.shift()!(null);
    // The failed commit wrote nothing to sync: its callback follows a's at once.
    expect(got).toEqual(['a:ok', 'b:disk full']);
    expect(pending).toHaveLength(0);
    w.committed(true, [(e) => got.push(`c:${e?.message ?? 'ok'}`)], null);
    pending.shift()!(Object.assign(new Error('EIO'), { code: 'EIO' }));
    expect(got[2]).toBe('c:EIO');
  });

  it('syncNow() fsyncs synchronously and runs everything; the superseded async fsync then does nothing', () => {
    const { w, pending, syncSpy } = setup();
    const got: string[] = [];
    w.committed(true, [() => got.push('in-flight')], null);
    w.committed(true, [() => got.push('waiting')], null);
    w.committed(true, [() => got.push('waiting too')], null);
    expect(pending).toHaveLength(2);
    w.syncNow();
    expect(syncSpy).toHaveBeenCalledTimes(1);
    expect(got).toEqual(['in-flight', 'waiting', 'waiting too']);
    pending.shift()!(null);
    pending.shift()!(null);
    expect(got).toEqual(['in-flight', 'waiting', 'waiting too']);
    w.committed(true, [() => got.push('after')], null);
    expect(pending).toHaveLength(1);
    pending.shift()!(null);
    expect(got).toEqual(['in-flight', 'waiting', 'waiting too', 'after']);
  });

  it('a throwing callback is reported and does not stop the others', () => {
    const { w, pending, errors } = setup();
    let second = false;
    w.committed(true, [() => { throw new Error('boom'); }, () => { second = true; }], null);
    pending.shift()!(null);
    expect(second).toBe(true);
    expect(errors.map((e) => e.message)).toEqual(['boom']);
  });
});
