// Policies on stream queues, as RabbitMQ 3.10 (rabbit_stream_queue:make_stream_conf): the keys
// max-length-bytes, max-age and stream-max-segment-size-bytes apply, each the lowest of the
// x-argument and the policy (and an operator policy's max-length-bytes); retention follows a
// policy set on a running stream, the segment size only one there when the stream starts. And
// the management API's view of a stream. Runs against Warren and RabbitMQ 3.10.8; RabbitMQ's
// message counts for a stream lag (they come from osiris' committed chunks on the stats
// interval), so the retained counts are checked on Warren only and the rest on both.
import { afterAll, describe, expect, it } from 'vitest';
import { httpSuite } from '../test/support/http.js';
import { eventually, external, uniqueName } from '../test/support/suite.js';

const s = httpSuite();
const made: [string, string][] = [];
afterAll(async () => { for (const [kind, p] of made) await s.api('DELETE', `/api/${kind}/%2F/${p}`); });

/** Priority 999: other suites sharing a differential broker set broad policies of their own. */
async function policy(q: string, definition: Record<string, unknown>, kind = 'policies'): Promise<void> {
  const name = `pol-${q}`;
  made.push([kind, name]);
  const r = await s.api('PUT', `/api/${kind}/%2F/${name}`, { pattern: `^${q}$`, definition, 'apply-to': 'queues', priority: 999 });
  expect([201, 204]).toContain(r.status);
}

async function stream(args: Record<string, unknown> = {}, q = uniqueName('sp')): Promise<string> {
  await s.ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'stream', ...args } });
  s.removeAfter(q);
  return q;
}

/** 1000-byte messages, confirmed. */
async function publish(q: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) s.pub.sendToQueue(q, Buffer.alloc(1000, 'p'));
  await s.pub.waitForConfirms();
}

const view = async (q: string) => (await s.api('GET', `/api/queues/%2F/${encodeURIComponent(q)}`)).body as Record<string, unknown>;
const count = async (q: string) => Number((await view(q)).messages);

/** Eventually shows `policy` (an operator policy with `field`) and, on Warren, at most `max` messages. */
async function retained(q: string, pol: string, max: number, field = 'policy'): Promise<void> {
  await eventually(async () => (await view(q))[field] === pol, `${q} shows ${pol}`, { timeoutMs: 20_000, intervalMs: 250 });
  if (external) return;
  const n = await count(q);
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(max);
}

describe('stream queues: policies', () => {
  it('a policy max-length-bytes applies to a running stream from then on', async () => {
    const q = await stream({ 'x-stream-max-segment-size-bytes': 10_000 });
    await publish(q, 100);
    if (!external) expect(await count(q)).toBe(100);
    await policy(q, { 'max-length-bytes': 20_000 });
    await publish(q, 100);
    // 20 000 bytes and up to two segments of 10 000 more: about 40 messages of 1000 bytes.
    await retained(q, `pol-${q}`, 45);
    expect((await view(q)).effective_policy_definition).toEqual({ 'max-length-bytes': 20_000 });
  }, 30_000);

  it('the lower of x-max-length-bytes and the policy wins', async () => {
    const q = await stream({ 'x-stream-max-segment-size-bytes': 10_000, 'x-max-length-bytes': 20_000 });
    await policy(q, { 'max-length-bytes': 1_000_000_000 });
    await publish(q, 200);
    await retained(q, `pol-${q}`, 45);
    const q2 = await stream({ 'x-stream-max-segment-size-bytes': 10_000, 'x-max-length-bytes': 1_000_000_000 });
    await policy(q2, { 'max-length-bytes': 20_000 });
    await publish(q2, 200);
    await retained(q2, `pol-${q2}`, 45);
  }, 60_000);

  it('an operator policy max-length-bytes caps a stream too', async () => {
    const q = await stream({ 'x-stream-max-segment-size-bytes': 10_000 });
    await policy(q, { 'max-length-bytes': 20_000 }, 'operator-policies');
    await publish(q, 200);
    await retained(q, `pol-${q}`, 45, 'operator_policy');
  }, 30_000);

  it('stream-max-segment-size-bytes from a policy there when the stream is declared', async () => {
    const q = uniqueName('sp');
    await policy(q, { 'stream-max-segment-size-bytes': 10_000, 'max-length-bytes': 20_000 });
    await stream({}, q);
    await publish(q, 200);
    await retained(q, `pol-${q}`, 45);
  }, 30_000);

  it('the management view of a stream: type, arguments, counts, members', async () => {
    const q = await stream({ 'x-max-age': '7D' });
    await publish(q, 3);
    // RabbitMQ lists a new queue's full view once its first stats are in.
    await eventually(async () => Array.isArray((await view(q)).members), 'the stream is listed', { timeoutMs: 20_000, intervalMs: 250 });
    const v = await view(q);
    expect(v).toMatchObject({
      type: 'stream', durable: true, auto_delete: false, exclusive: false, arguments: { 'x-queue-type': 'stream', 'x-max-age': '7D' },
      policy: null, operator_policy: null, effective_policy_definition: {},
      state: 'running', members: [v.node], online: [v.node],
    });
    for (const k of ['message_bytes', 'consumer_capacity', 'single_active_consumer_tag', 'head_message_timestamp']) expect(v).not.toHaveProperty(k);
    const list = (await s.api('GET', '/api/queues/%2F')).body as Record<string, unknown>[];
    expect(list.find((x) => x.name === q)).toMatchObject({ type: 'stream', members: [v.node] });
    if (!external) expect([v.messages, v.messages_ready, v.messages_unacknowledged]).toEqual([3, 3, 0]);
  }, 30_000);
});
