// rabbitmqadmin, unchanged, against Warren's management API: declare, list, show overview,
// publish, get, purge, delete and close a connection, as a developer's script would. Also runs
// against RabbitMQ's management plugin in differential mode. Skipped (with the reason) only
// where Debian's rabbitmq-server package, which ships rabbitmqadmin, is not installed; .ci/run
// installs it.
import { describe, expect, it } from 'vitest';
import { httpSuite } from '../test/support/http.js';
import { findRabbitmqadmin, rabbitmqadmin } from '../test/support/rabbitmqadmin.js';
import { eventually, uniqueName } from '../test/support/suite.js';

const s = httpSuite();
const script = findRabbitmqadmin();
const admin = (...args: string[]) => rabbitmqadmin(script!, Number(new URL(s.http).port), args);

describe.skipIf(script === null)('rabbitmqadmin (Debian rabbitmq-server\'s) against the management API', () => {
  it('declares a queue, an exchange and a binding, publishes through them and gets the message', async () => {
    const q = uniqueName('adm-q');
    const x = uniqueName('adm-x');
    s.removeAfter(q);
    expect(await admin('declare', 'queue', `name=${q}`, 'durable=false')).toMatchObject({ code: 0, stdout: 'queue declared\n' });
    expect(await admin('declare', 'exchange', `name=${x}`, 'type=fanout', 'durable=false')).toMatchObject({ code: 0, stdout: 'exchange declared\n' });
    expect(await admin('declare', 'binding', `source=${x}`, `destination=${q}`)).toMatchObject({ code: 0, stdout: 'binding declared\n' });
    expect(await admin('publish', `exchange=${x}`, 'routing_key=any', 'payload=hello admin')).toMatchObject({ code: 0, stdout: 'Message published\n' });
    const got = await admin('-f', 'tsv', 'get', `queue=${q}`, 'ackmode=ack_requeue_true');
    expect(got.code).toBe(0);
    const [header, row] = got.stdout.trim().split('\n').map((l) => l.split('\t'));
    const fields = Object.fromEntries(header!.map((h, i) => [h, row![i]]));
    expect(fields).toMatchObject({ routing_key: 'any', exchange: x, payload: 'hello admin', payload_bytes: '11', redelivered: 'False' });
    await eventually(async () => {
      const listed = await admin('-f', 'tsv', 'list', 'queues', 'name', 'messages');
      return listed.stdout.split('\n').some((l) => l === `${q}\t1`);
    }, 'list queues shows the message', { timeoutMs: 15_000, intervalMs: 500 });
    expect((await admin('-f', 'tsv', 'list', 'bindings', 'source', 'destination')).stdout).toContain(`${x}\t${q}`);
    expect(await admin('purge', 'queue', `name=${q}`)).toMatchObject({ code: 0, stdout: 'queue purged\n' });
    expect((await s.ch.checkQueue(q)).messageCount).toBe(0);
    expect(await admin('delete', 'exchange', `name=${x}`)).toMatchObject({ code: 0, stdout: 'exchange deleted\n' });
    expect(await admin('delete', 'queue', `name=${q}`)).toMatchObject({ code: 0, stdout: 'queue deleted\n' });
    await expect(s.ch.checkQueue(q).then(() => 'exists', () => 'gone')).resolves.toBe('gone');
  });

  it('shows the overview and lists exchanges', async () => {
    const overview = await admin('-f', 'long', 'show', 'overview');
    expect(overview.code).toBe(0);
    expect(overview.stdout).toMatch(/rabbitmq_version: 3\.\d+\.\d+/);
    expect(overview.stdout).toMatch(/object_totals\.queues: \d+/);
    const exchanges = await admin('-f', 'tsv', 'list', 'exchanges', 'name', 'type');
    expect(exchanges.stdout.split('\n')).toEqual(expect.arrayContaining(['amq.direct\tdirect', 'amq.topic\ttopic']));
  });

  it('lists connections and closes one', async () => {
    const c = await s.clients.connect();
    const closed = new Promise<Error>((r) => c.once('close', r));
    const sock = (c.connection as unknown as { stream: { localPort: number } }).stream;
    let name = '';
    await eventually(async () => {
      const listed = await admin('-f', 'tsv', 'list', 'connections', 'name');
      name = listed.stdout.split('\n').find((l) => l.startsWith(`127.0.0.1:${sock.localPort} `)) ?? '';
      return name !== '';
    }, 'list connections shows it', { timeoutMs: 15_000, intervalMs: 500 });
    expect(await admin('close', 'connection', `name=${name}`)).toMatchObject({ code: 0, stdout: 'connection closed\n' });
    expect(String(await closed)).toMatch(/320 \(CONNECTION-FORCED\)/);
  });

  it('exits non-zero with the API\'s reason for a refused operation', async () => {
    const r = await admin('delete', 'exchange', 'name=amq.direct');
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Access refused/);
  });
});
