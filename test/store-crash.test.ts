// Crash safety of the store: a child process streams persistent messages (plus acks and
// delivered marks) and reports each write whose afterCommit fired; it is SIGKILLed mid-stream,
// restarted, killed again, and every reported write must be on disk, in order, uncorrupted.
// Also prints (never asserts) group-commit throughput.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store, type MessageRecord } from '../src/store/store.js';
import { buildStoreForChildren } from './support/store-child.js';

const NONE = Buffer.alloc(0);

/** Body of message seq: recognisable, variable length, so corruption or mix-ups show. */
const bodyOf = (seq: number) => Buffer.from(`${seq};`.repeat(4 + (seq % 97)));

// The child: each turn adds a batch, acks (removes) every 5th message of the previous batch,
// marks delivered up to 50 below the newest; reports "A first last", "R seq", "D upto" from
// afterCommit, and "r seq..." when it makes acks (a commit can be durable yet unreported when
// the kill lands between COMMIT and the report, so an acked message may be gone). stdout to a pipe is synchronous on Linux, so a reported line was really sent.
const WRITER = `
import { Store } from './store/store.js';
const bodyOf = ${bodyOf.toString()};
const store = Store.open(process.argv[2]);
store.saveQueue('/', { name: 'q', autoDelete: false, args: Buffer.alloc(0) });
let seq = store.messages.lastSeq('/', 'q');
let prev = [];
let turns = 0;
function turn() {
  const first = seq + 1, n = 1 + (turns++ % 200);
  const acked = prev.filter((s) => s % 5 === 0);
  prev = [];
  for (let i = 0; i < n; i++) {
    seq++;
    prev.push(seq);
    store.messages.addMessage('/', 'q', { seq, exchange: 'ex', routingKey: 'rk.' + seq, properties: Buffer.from([seq % 251]),
      body: bodyOf(seq), enqueuedAt: seq, expiresAt: null, priority: seq % 10 });
  }
  if (acked.length) process.stdout.write('r ' + acked.join(' ') + '\\n');
  for (const s of acked) store.messages.removeMessage('/', 'q', s);
  const last = seq, upto = Math.max(0, seq - 50);
  store.messages.markDelivered('/', 'q', upto);
  store.afterCommit((err) => {
    if (err) throw err;
    let out = 'A ' + first + ' ' + last + '\\nD ' + upto + '\\n';
    for (const s of acked) out += 'R ' + s + '\\n';
    process.stdout.write(out);
  });
  setImmediate(turn);
}
turn();
`;

interface Reported {
  added: Set<number>;
  removed: Set<number>;
  /** Acks the writer made, committed or not: such a message may or may not be on disk. */
  acking: Set<number>;
  delivered: number;
}

/** Runs the writer until it has reported `atLeast` more committed messages, then SIGKILLs it. */
function runAndKill(script: string, dir: string, atLeast: number, rep: Reported): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    let fresh = 0;
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        const [kind, a, b] = line.split(' ');
        buf = buf.slice(nl + 1);
        if (kind === 'A') for (let s = Number(a); s <= Number(b); s++, fresh++) rep.added.add(s);
        else if (kind === 'R') rep.removed.add(Number(a));
        else if (kind === 'r') for (const x of line.slice(2).split(' ')) rep.acking.add(Number(x));
        else if (kind === 'D') rep.delivered = Math.max(rep.delivered, Number(a));
      }
      if (fresh >= atLeast) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited (code ${code}) before it was killed: ${err}`));
    });
  });
}

describe('crash safety', () => {
  it('every write reported committed survives SIGKILL, in order and intact', { timeout: 60_000 }, async () => {
    const childDir = buildStoreForChildren();
    const script = path.join(childDir, 'writer.mjs');
    fs.writeFileSync(script, WRITER);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-crash-'));
    const rep: Reported = { added: new Set(), removed: new Set(), acking: new Set(), delivered: 0 };
    // Kill twice: the second run recovers the first crash's WAL and writes on top of it.
    await runAndKill(script, dir, 20_000 + Math.floor(Math.random() * 5000), rep);
    await runAndKill(script, dir, 20_000 + Math.floor(Math.random() * 5000), rep);

    const s = Store.open(dir); // the dead writer's stale lock is taken over
    try {
      expect(s.integrityCheck()).toEqual([]);
      const index = s.messages.loadIndex('/', 'q');
      const present = new Set(index.map((e) => e.seq));
      for (let i = 1; i < index.length; i++) expect(index[i]!.seq).toBeGreaterThan(index[i - 1]!.seq);
      let missing = 0;
      let resurrected = 0;
      for (const seq of rep.added) if (!rep.acking.has(seq) && !present.has(seq)) missing++;
      for (const seq of rep.removed) if (present.has(seq)) resurrected++;
      expect(missing).toBe(0);
      expect(resurrected).toBe(0);
      for (const e of index) {
        const m = s.messages.readMessage('/', 'q', e.seq)!;
        expect(m.body.equals(bodyOf(e.seq))).toBe(true);
        expect(m.routingKey).toBe(`rk.${e.seq}`);
        expect(m.properties[0]).toBe(e.seq % 251);
        expect(e.size).toBe(m.body.length);
        expect(e.priority).toBe(e.seq % 10);
        if (e.seq <= rep.delivered) expect(e.redelivered).toBe(true);
      }
      console.log(
        `crash test: ${rep.added.size} adds and ${rep.removed.size} acks reported committed over two SIGKILLs; ` +
          `${index.length} messages recovered, ${index.filter((e) => !rep.added.has(e.seq)).length} of them from a commit ` +
          `that was durable but not yet reported when the kill landed`,
      );
    } finally {
      s.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(childDir, { recursive: true, force: true });
    }
  });
});

describe('group-commit throughput (printed, not asserted)', () => {
  /** Adds `batch` messages per turn (as if that many publishes arrived), optionally acking the previous turn's. */
  async function measure(bodySize: number, batch: number, ack: boolean, ms = 1000) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-bench-'));
    const s = Store.open(dir);
    s.saveQueue('/', { name: 'q', autoDelete: false, args: NONE });
    const body = Buffer.alloc(bodySize, 0x61);
    const props = Buffer.from([0x10, 0x00, 0x02]);
    let seq = 0;
    let confirmed = 0;
    const commits0 = s.commits;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const onCommit = () => (confirmed += batch);
      const turn = () => {
        if (performance.now() - t0 >= ms) return resolve();
        for (let i = 0; i < batch; i++) {
          if (ack && seq >= batch) s.messages.removeMessage('/', 'q', seq - batch + 1);
          const rec: MessageRecord = { seq: ++seq, exchange: '', routingKey: 'q', properties: props, body, enqueuedAt: 0, expiresAt: null, priority: 0 };
          s.messages.addMessage('/', 'q', rec);
        }
        s.afterCommit(onCommit);
        setImmediate(turn);
      };
      turn();
    });
    s.flush();
    const secs = (performance.now() - t0) / 1000;
    const commits = s.commits - commits0;
    s.close();
    fs.rmSync(dir, { recursive: true, force: true });
    return { rate: Math.round(confirmed / secs), commitsPerSec: Math.round(commits / secs) };
  }

  it('prints messages/s for 16 B and 1 KiB bodies', { timeout: 60_000 }, async () => {
    const rows: string[] = [];
    // msgs/turn stands for how many publishes the broker reads per event-loop turn; "acks" also
    // removes the previous turn's messages (a consumer keeping up).
    const cases: [number, number, boolean][] = [];
    for (const size of [16, 1024]) for (const batch of [1, 100, 1000]) cases.push([size, batch, false]);
    cases.push([16, 100, true], [1024, 100, true]);
    for (const [size, batch, ack] of cases) {
      const r = await measure(size, batch, ack, 600);
      rows.push(
        `  body ${String(size).padStart(4)} B, ${String(batch).padStart(4)} msgs/turn, ${ack ? 'with acks   ' : 'publish only'}: ` +
          `${String(r.rate).padStart(7)} msg/s confirmed (${r.commitsPerSec} commits/s)`,
      );
    }
    console.log(`store group-commit throughput (synchronous=FULL, ${os.tmpdir()}):\n${rows.join('\n')}`);
    expect(rows.length).toBe(cases.length);
  });
});
