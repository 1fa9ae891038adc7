// `warren ctl` (node dist/main.js ctl ...) against a Warren child process with its management
// API on a free port: rabbitmqctl 3.10's lines, rows and exit codes, asserted literally. In
// differential mode (WARREN_EXTERNAL_HTTP=http://127.0.0.1:15711, after
// interop/differential/rabbitmq.sh start 5711) the same commands run against that RabbitMQ,
// and the real rabbitmqctl runs next to each one against the same node: rows, informational
// lines, error texts and exit codes must match (rows compared as sets: neither orders them;
// `pid` columns are left out, as process ids do not cross the HTTP API). Users, vhosts,
// permissions and definitions skip, saying why, while Warren's API does not offer them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctlTarget, externalHttp, rabbitmqctlFor, warrenCtl, type CtlTarget, type Run } from '../test/support/ctl.js';
import { compare } from '../test/support/ctl-compare.js';
import { freePort, built } from '../test/support/process.js';
import { eventually } from '../test/support/suite.js';

const P = `ctl${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const TIMEOUT = 90_000;
let t: CtlTarget;
let conn: ChannelModel;
let ch: Channel;
let dir: string;
const opened: ChannelModel[] = [];

const ctl = (...args: string[]) => warrenCtl(t, args);
const http = (path: string, user = 'guest', pass = 'guest') =>
  fetch(`http://127.0.0.1:${t.managementPort}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` } });

const { same, twin } = compare(() => t, P);

const mine = (row: string) => row.includes(P);

/** Waits until `warren ctl args` prints `line` (RabbitMQ's API refreshes its figures every 5 s). */
async function until(args: string[], line: string): Promise<void> {
  await eventually(async () => (await ctl(...args)).stdout.split('\n').includes(line), `warren ctl ${args.join(' ')} shows ${line}`, { timeoutMs: 20_000, intervalMs: 300 });
}

async function declare(name: string, args: Record<string, unknown> = {}, messages = 0): Promise<string> {
  await ch.assertQueue(name, { durable: false, arguments: args });
  for (let i = 0; i < messages; i++) ch.sendToQueue(name, Buffer.from(`m${i}`));
  return name;
}

/** True, and the test skipped with the reason, when the broker's API lacks what `r` needed. */
function notOffered(r: Run, skip: (note: string) => never): void {
  if (r.code === 69 && /does not offer/.test(r.stderr)) skip(`the broker's management API does not offer this yet: ${r.stderr.trim().split('\n').pop()}`);
}

describe.skipIf(!built)('warren ctl', () => {
  beforeAll(async () => {
    t = await ctlTarget();
    conn = await amqp.connect(t.amqpUrl);
    ch = await conn.createChannel();
    dir = mkdtempSync(join(tmpdir(), 'warren-ctl-'));
  });
  afterAll(async () => {
    const c = await conn.createChannel().catch(() => null);
    for (const q of ['q1', 'q2', 'q3', 'q4', 'q-a', 'q-b', 'defq'].map((n) => `${P}-${n}`)) await c?.deleteQueue(q).catch(() => {});
    await c?.deleteExchange(`${P}-x`).catch(() => {});
    for (const o of opened) await o.close().catch(() => {});
    await conn?.close().catch(() => {});
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('list_queues: the default columns, named ones, -q, --no-table-headers, JSON, an unknown vhost', async () => {
    const q1 = await declare(`${P}-q1`, {}, 2);
    const q2 = await declare(`${P}-q2`, { 'x-message-ttl': 60000, 'x-max-length': 10 });
    await until(['list_queues'], `${q1}\t2`);
    const r = await same(['list_queues'], mine);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Timeout: 60\.0 seconds \.\.\.\nListing queues for vhost \/ \.\.\.\nname\tmessages\n/);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining([`${q1}\t2`, `${q2}\t0`]));
    const cols = ['name', 'messages', 'messages_ready', 'messages_unacknowledged', 'consumers', 'durable', 'auto_delete', 'arguments', 'exclusive'];
    const full = await same(['list_queues', ...cols], mine);
    expect(full.stdout.split('\n')).toEqual(expect.arrayContaining([cols.join('\t'), `${q1}\t2\t2\t0\t0\tfalse\tfalse\t[]\tfalse`]));
    // As declared on Warren (as rabbitmqctl prints it); RabbitMQ's HTTP API sorts the fields.
    const args = externalHttp === undefined ? '[{"x-message-ttl",60000},{"x-max-length",10}]' : '[{"x-max-length",10},{"x-message-ttl",60000}]';
    expect(full.stdout.split('\n')).toContain(`${q2}\t0\t0\t0\t0\tfalse\tfalse\t${args}\tfalse`);
    const quiet = await same(['-q', 'list_queues', '--no-table-headers', 'name,durable'], mine);
    expect(quiet.stdout.split('\n')).toContain(`${q1}\tfalse`);
    expect(quiet.stdout).not.toMatch(/Listing|^name/m);
    const json = await ctl('list_queues', '--formatter', 'json', 'name', 'messages', 'arguments');
    expect(json.stdout).toMatch(/^\[\n\{.*\}\n(,\{.*\}\n)*\]\n$/);
    const parsed = JSON.parse(json.stdout) as { name: string }[];
    const q2json = parsed.find((o) => o.name === q2) as { arguments: [string, string, number][] } | undefined;
    expect(q2json).toMatchObject({ name: q2, messages: 0 });
    expect(q2json!.arguments.sort()).toEqual([['x-max-length', 'long', 10], ['x-message-ttl', 'long', 60000]]);
    const none = await same(['list_queues', '-p', `${P}-novhost`]);
    expect(none).toMatchObject({ code: 0, stdout: `Timeout: 60.0 seconds ...\nListing queues for vhost ${P}-novhost ...\n` });
    expect(await ctl('list_queues', '--vhost', `${P}-novhost`, '--formatter', 'json')).toMatchObject({ code: 0, stdout: '[\n]\n' });
  }, TIMEOUT);

  it('list_exchanges and list_bindings', async () => {
    const x = `${P}-x`;
    const q1 = await declare(`${P}-q1`);
    await ch.assertExchange(x, 'topic', { durable: false });
    await ch.bindQueue(q1, x, 'a.#', { k: 'v' });
    const ex = await same(['list_exchanges'], mine);
    expect(ex.stdout).toMatch(/^Listing exchanges for vhost \/ \.\.\.\nname\ttype\n/);
    expect(ex.stdout.split('\n')).toEqual(expect.arrayContaining([`${x}\ttopic`, 'amq.direct\tdirect', '\tdirect']));
    const exFull = await same(['list_exchanges', 'name', 'type', 'durable', 'auto_delete', 'internal', 'arguments'], mine);
    expect(exFull.stdout.split('\n')).toContain(`${x}\ttopic\tfalse\tfalse\tfalse\t[]`);
    const b = await same(['list_bindings'], mine);
    expect(b.stdout).toMatch(/^Listing bindings for vhost \/\.\.\.\nsource_name\tsource_kind\tdestination_name\tdestination_kind\trouting_key\targuments\n/);
    expect(b.stdout.split('\n')).toEqual(expect.arrayContaining([`\texchange\t${q1}\tqueue\t${q1}\t[]`, `${x}\texchange\t${q1}\tqueue\ta.#\t[{"k","v"}]`]));
  }, TIMEOUT);

  it('list_connections, list_channels, list_consumers, close_connection', async () => {
    const c = await amqp.connect(t.amqpUrl, { clientProperties: { connection_name: `${P}-app` } });
    opened.push(c);
    const closed = new Promise<Error>((r) => c.once('close', r));
    const cch = await c.createChannel();
    const q3 = await declare(`${P}-q3`, {}, 1);
    await cch.prefetch(5);
    await cch.consume(q3, () => {}, { consumerTag: `${P}-tag` });
    const localPort = (c.connection as unknown as { stream: { localPort: number } }).stream.localPort;
    const amqpPort = new URL(t.amqpUrl).port;
    const name = `127.0.0.1:${localPort} -> 127.0.0.1:${amqpPort}`;
    const ours = (row: string) => row.includes(`${localPort}`);
    await until(['list_connections'], `guest\t127.0.0.1\t${localPort}\trunning`);
    await until(['list_connections', 'peer_port', 'channels'], `${localPort}\t1`);
    const conns = await same(['list_connections'], ours);
    expect(conns.stdout).toMatch(/^Listing connections \.\.\.\nuser\tpeer_host\tpeer_port\tstate\n/);
    const cols = ['name', 'user', 'vhost', 'peer_host', 'peer_port', 'host', 'port', 'state', 'channels', 'protocol', 'auth_mechanism', 'ssl', 'frame_max', 'channel_max'];
    const full = await same(['list_connections', ...cols], ours);
    expect(full.stdout.split('\n')).toContain(`${name}\tguest\t/\t127.0.0.1\t${localPort}\t127.0.0.1\t${amqpPort}\trunning\t1\t{0,9,1}\tPLAIN\tfalse\t131072\t2047`);
    const props = await ctl('list_connections', 'peer_port', 'client_properties');
    const propsRow = props.stdout.split('\n').find((l) => l.startsWith(`${localPort}\t[{`)) ?? '';
    for (const field of [`{"connection_name","${P}-app"}`, '{"product","amqplib"}', '{"capabilities",[', '{"publisher_confirms",true}']) expect(propsRow).toContain(field);
    await until(['list_channels', 'name', 'consumer_count'], `${name} (1)\t1`);
    const chans = await same(['list_channels', 'name', 'number', 'user', 'vhost', 'consumer_count', 'messages_unacknowledged', 'prefetch_count', 'transactional', 'confirm'], ours);
    expect(chans.stdout).toMatch(/^Listing channels \.\.\.\n/);
    expect(chans.stdout.split('\n')).toContain(`${name} (1)\t1\tguest\t/\t1\t1\t5\tfalse\tfalse`);
    const cons = await ctl('list_consumers');
    expect(cons.stdout).toMatch(/^Listing consumers in vhost \/ \.\.\.\nqueue_name\tchannel_pid\tconsumer_tag\tack_required\tprefetch_count\tactive\targuments\n/);
    expect(cons.stdout.split('\n')).toContain(`${q3}\t${name} (1)\t${P}-tag\ttrue\t5\ttrue\t[]`);
    await same(['list_consumers', 'queue_name', 'consumer_tag', 'ack_required', 'prefetch_count', 'active', 'activity_status', 'arguments'], mine);
    expect(await same(['list_consumers', '-p', `${P}-novhost`])).toMatchObject({ code: 0, stdout: `Listing consumers in vhost ${P}-novhost ...\n` });
    // rabbitmqctl closes by process id, which the HTTP API does not show: by name here.
    expect(await ctl('close_connection', name, 'ctl says bye')).toMatchObject({ code: 0, stdout: `Closing connection ${name}, reason: ctl says bye...\n`, stderr: '' });
    expect(String(await closed)).toMatch(/320 \(CONNECTION-FORCED\) with message "CONNECTION_FORCED - ctl says bye"/);
    const gone = await ctl('close_connection', name, 'again');
    expect(gone.code).toBe(69);
    expect(gone.stderr).toMatch(/^Error:\nno connection named/);
  }, TIMEOUT);

  it('purge_queue and delete_queue, with rabbitmqctl\'s texts and exit codes', async () => {
    const q4 = await declare(`${P}-q4`, {}, 3);
    await until(['list_queues'], `${q4}\t3`);
    expect(await ctl('purge_queue', q4)).toMatchObject({ code: 0, stdout: `Purging queue '${q4}' in vhost '/' ...\n`, stderr: '' });
    expect((await ch.checkQueue(q4)).messageCount).toBe(0);
    expect(await ctl('-q', 'purge_queue', q4)).toMatchObject({ code: 0, stdout: '' });
    expect(await same(['purge_queue', `${P}-nosuch`])).toMatchObject({ code: 69, stderr: 'Error:\nnot_found\n' });
    expect(await same(['purge_queue', '-p', `${P}-novhost`, q4])).toMatchObject({ code: 69 });
    // Two alike queues: warren ctl deletes one, rabbitmqctl (differential mode) the other.
    await declare(`${P}-q-a`, {}, 2);
    await declare(`${P}-q-b`, {}, 2);
    await until(['list_queues'], `${P}-q-a\t2`);
    await until(['list_queues'], `${P}-q-b\t2`);
    expect(await twin((s) => ['delete_queue', `${P}-q-${s}`, '--if-empty'])).toMatchObject({ code: 64, stderr: 'Error:\nQueue is not empty\n' });
    const del = await twin((s) => ['delete_queue', `${P}-q-${s}`]);
    expect(del).toMatchObject({ code: 0, stdout: `Deleting queue '${P}-q-a' on vhost '/' ...\nQueue was successfully deleted with 2 ready messages\n` });
    expect(await twin((s) => ['delete_queue', `${P}-q-${s}`])).toMatchObject({ code: 64, stderr: 'Error:\nQueue not found\n' });
    expect(await ctl('delete_queue', '-e', '-u', q4)).toMatchObject({ code: 0, stdout: `Deleting queue '${q4}' on vhost '/' if queue is empty and if queue is unused ...\nQueue was successfully deleted with 0 ready messages\n` });
  }, TIMEOUT);

  it('argument errors: exit 64 with rabbitmqctl\'s first line', async () => {
    for (const args of [['list_queues', 'bogus'], ['purge_queue'], ['purge_queue', 'a', 'b'], ['list_queues', '--bogusflag'], ['set_permissions', 'u', 'a', 'b'], ['export_definitions'], [`no_such_${P}`]]) {
      const r = await same(args);
      expect(r.code, args.join(' ')).toBe(64);
    }
    expect((await ctl('list_queues', 'bogus')).stderr).toMatch(/^Error \(argument validation\): Info key\(s\) bogus are not supported\nArguments given:\n\t/);
    expect((await ctl('purge_queue')).stderr).toMatch(/^Error \(argument validation\): not enough arguments\./);
    expect((await ctl(`no_such_${P}`)).stderr).toMatch(new RegExp(`^\nCommand 'no_such_${P}' not found\\. \n`));
    expect((await ctl('list_users', '-p', '/')).stderr).toMatch(/^Error \(argument validation\): Invalid options for this command:\n--vhost : /);
  }, TIMEOUT);

  it('status: rabbitmqctl\'s sections from the management API; JSON', async () => {
    const r = await ctl('status');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Status of node \S+ \.\.\.\n\u001b\[1mRuntime\u001b\[0m\n\nOS PID: \d+\nUptime \(seconds\): \d+\n/);
    const amqpPort = new URL(t.amqpUrl).port;
    expect(r.stdout).toContain(`Interface: 127.0.0.1, port: ${amqpPort}, protocol: amqp, purpose: AMQP 0-9-1 and AMQP 1.0\n`);
    expect(r.stdout).toMatch(/\nQueue count: \d+\nVirtual host count: \d+\n/);
    const sections = (s: string) => [...s.matchAll(/\u001b\[1m([^\u001b]+)\u001b\[0m/g)].map((m) => m[1]);
    expect(sections(r.stdout)).toEqual(['Runtime', 'Alarms', 'Memory', 'File Descriptors', 'Free Disk Space', 'Totals', 'Listeners']);
    const theirs = rabbitmqctlFor(t);
    if (theirs !== null) {
      const real = await theirs(['status']);
      expect(sections(real.stdout)).toEqual(expect.arrayContaining(sections(r.stdout)));
      expect(real.stdout).toContain(`Interface: 127.0.0.1, port: ${amqpPort}, protocol: amqp, purpose: AMQP 0-9-1 and AMQP 1.0\n`);
      for (const line of ['Alarms', 'Totals']) expect(real.stdout).toContain(`\u001b[1m${line}\u001b[0m\n\n`);
    }
    const json = JSON.parse((await ctl('status', '--formatter', 'json')).stdout);
    expect(json).toMatchObject({ alarms: [], is_under_maintenance: false, totals: { queue_count: expect.any(Number) } });
    expect(json.listeners).toContainEqual(expect.objectContaining({ port: Number(amqpPort), protocol: 'amqp', purpose: 'AMQP 0-9-1 and AMQP 1.0' }));
  }, TIMEOUT);

  it('a broker that is not there exits 69, refused credentials 77, a turned-off API 69', async () => {
    const port = await freePort();
    const down = await warrenCtl({ ...t, managementPort: port }, ['list_queues']);
    expect(down.code).toBe(69);
    expect(down.stderr).toMatch(new RegExp(`^Error: unable to perform an operation on the management API at http://127\\.0\\.0\\.1:${port}\\.`));
    const bad = await ctl('list_queues', '--password', 'wrong');
    expect(bad.code).toBe(77);
    expect(bad.stderr).toMatch(/^Error:\nthe management API at \S+ refused user 'guest': 401/);
    const viaEnv = await warrenCtl(t, ['list_queues'], { env: { WARREN_PASSWORD: 'wrong' } });
    expect(viaEnv.code).toBe(77);
    const off = await warrenCtl({ ...t, managementPort: 0 }, ['list_queues']);
    expect(off.code).toBe(69);
    expect(off.stderr).toMatch(/management API is turned off/);
  }, TIMEOUT);

  it('users: add_user, set_user_tags, change_password, list_users, delete_user', async ({ skip }) => {
    notOffered(await ctl('list_users'), skip);
    const u = (s: string) => `${P}-user-${s}`;
    expect(await twin((s) => ['add_user', u(s), 'pw1'])).toMatchObject({
      code: 0, stdout: `Adding user "${u('a')}" ...\nDone. Don't forget to grant the user permissions to some virtual hosts! See 'warren ctl help set_permissions' to learn more.\n`,
    });
    expect(await twin((s) => ['add_user', u(s), 'pw2'])).toMatchObject({ code: 70, stderr: `Error:\nUser "${u('a')}" already exists\n` });
    expect(await twin((s) => ['set_user_tags', u(s), 'management', 'policymaker'])).toMatchObject({ code: 0, stdout: `Setting tags for user "${u('a')}" to [management, policymaker] ...\n` });
    // The tags came without the password getting lost.
    expect(await (await http('/api/whoami', u('a'), 'pw1')).json()).toEqual({ name: u('a'), tags: ['management', 'policymaker'] });
    expect(await twin((s) => ['change_password', u(s), 'pw3'])).toMatchObject({ code: 0, stdout: `Changing password for user "${u('a')}" ...\n` });
    expect((await http('/api/whoami', u('a'), 'pw3')).status).toBe(200);
    expect((await http('/api/whoami', u('a'), 'pw1')).status).toBe(401);
    const list = await same(['list_users'], mine);
    expect(list.stdout).toMatch(/^Listing users \.\.\.\nuser\ttags\n/);
    expect(list.stdout.split('\n')).toEqual(expect.arrayContaining([`${u('a')}\t[management, policymaker]`, 'guest\t[administrator]']));
    expect(JSON.parse((await ctl('list_users', '--formatter', 'json')).stdout)).toContainEqual({ user: u('a'), tags: ['management', 'policymaker'] });
    // The password from standard input.
    expect(await ctl('add_user', `${P}-user-c`)).toMatchObject({ code: 65, stderr: 'Error:\nPassword is not provided via argument or stdin\n' });
    expect((await warrenCtl(t, ['add_user', `${P}-user-c`], { stdin: 'frompipe\n' })).code).toBe(0);
    expect((await ctl('set_user_tags', `${P}-user-c`, 'monitoring')).code).toBe(0);
    expect((await http('/api/whoami', `${P}-user-c`, 'frompipe')).status).toBe(200);
    expect((await ctl('delete_user', `${P}-user-c`)).code).toBe(0);
    for (const cmd of [['change_password', u('x'), 'p'], ['set_user_tags', u('x'), 't'], ['delete_user', u('x')]]) {
      const r = await same(cmd);
      expect(r, cmd.join(' ')).toMatchObject({ code: 67, stderr: `Error:\nUser "${u('x')}" does not exist\n` });
    }
    expect(await twin((s) => ['delete_user', u(s)])).toMatchObject({ code: 0, stdout: `Deleting user "${u('a')}" ...\n` });
  }, TIMEOUT);

  it('vhosts and permissions: add_vhost, list_vhosts, set/list/clear_permissions, delete_vhost', async ({ skip }) => {
    notOffered(await ctl('list_users'), skip);
    const v = (s: string) => `${P}-vh-${s}`;
    const u = (s: string) => `${P}-pu-${s}`;
    expect(await twin((s) => ['add_vhost', v(s)])).toMatchObject({ code: 0, stdout: `Adding vhost "${v('a')}" ...\n` });
    notOffered(await ctl('list_permissions', '-p', v('a')), skip);
    expect((await twin((s) => ['add_user', u(s), 'pw'])).code).toBe(0);
    const vl = await ctl('list_vhosts', 'name', 'tracing');
    expect(vl.stdout).toMatch(/^Listing vhosts \.\.\.\nname\ttracing\n/);
    expect(vl.stdout.split('\n')).toEqual(expect.arrayContaining(['/\tfalse', `${v('a')}\tfalse`]));
    expect(await twin((s) => ['set_permissions', '-p', v(s), u(s), '.*', '', 'r.*'])).toMatchObject({ code: 0, stdout: `Setting permissions for user "${u('a')}" in vhost "${v('a')}" ...\n` });
    const perms = await twin((s) => ['list_permissions', '-p', v(s)], mine);
    expect(perms.stdout).toMatch(new RegExp(`^Listing permissions for vhost "${v('a')}" \\.\\.\\.\nuser\tconfigure\twrite\tread\n`));
    expect(perms.stdout.split('\n')).toContain(`${u('a')}\t.*\t\tr.*`);
    expect(JSON.parse((await ctl('list_permissions', '-p', v('a'), '--formatter', 'json')).stdout)).toContainEqual({ user: u('a'), configure: '.*', write: '', read: 'r.*' });
    const up = await twin((s) => ['list_user_permissions', u(s)]);
    expect(up).toMatchObject({ code: 0, stdout: `Listing permissions for user "${u('a')}" ...\nvhost\tconfigure\twrite\tread\n${v('a')}\t.*\t\tr.*\n` });
    expect(await twin((s) => ['set_permissions', '-p', `${v(s)}-none`, u(s), 'a', 'b', 'c'])).toMatchObject({ code: 69, stderr: `Error:\nVirtual host ${v('a')}-none does not exist\n` });
    expect(await twin((s) => ['set_permissions', '-p', v(s), `${u(s)}-none`, 'a', 'b', 'c'])).toMatchObject({ code: 67, stderr: `Error:\nUser ${u('a')}-none does not exist\n` });
    expect(await twin((s) => ['clear_permissions', '-p', v(s), u(s)])).toMatchObject({ code: 0, stdout: `Clearing permissions for user "${u('a')}" in vhost "${v('a')}" ...\n` });
    expect((await ctl('list_permissions', '-p', v('a'))).stdout).not.toContain(u('a'));
    expect((await twin((s) => ['clear_permissions', '-p', v(s), u(s)])).code).toBe(0);
    expect(await twin((s) => ['clear_permissions', '-p', `${v(s)}-none`, u(s)])).toMatchObject({ code: 69 });
    expect(await twin((s) => ['delete_vhost', v(s)])).toMatchObject({ code: 0, stdout: `Deleting vhost "${v('a')}" ...\n` });
    expect(await twin((s) => ['delete_vhost', v(s)])).toMatchObject({ code: 65, stderr: `Virtual host '${v('a')}' does not exist\n` });
    expect(await twin((s) => ['list_permissions', '-p', v(s)])).toMatchObject({ code: 65, stderr: `Virtual host '${v('a')}' does not exist\n` });
    expect((await twin((s) => ['delete_user', u(s)])).code).toBe(0);
  }, TIMEOUT);

  it.skipIf(externalHttp !== undefined)('replay_dead_letters (Warren\'s): rejected messages go back to their queue', async () => {
    const work = `${P}-replay-work`;
    const dlq = `${P}-replay-dlq`;
    await ch.assertQueue(dlq, { durable: false });
    await ch.assertQueue(work, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
    for (const b of ['a', 'b', 'c']) ch.sendToQueue(work, Buffer.from(b));
    for (let i = 0; i < 3; i++) {
      const m = await ch.get(work);
      if (m !== false) ch.nack(m, false, false);
    }
    await eventually(async () => (await ch.checkQueue(dlq)).messageCount === 3, 'three dead letters', { timeoutMs: 5000 });
    const r = await ctl('replay_dead_letters', dlq, '--count', '2');
    expect(r).toMatchObject({
      code: 0, stdout: `Replaying 2 dead-lettered messages of queue '${dlq}' in vhost '/' ...\nReplayed 2 messages; 1 left in the queue\n`,
    });
    expect((await ch.checkQueue(work)).messageCount).toBe(2);
    const m = await ch.get(work, { noAck: true });
    expect(m && (m.properties.headers?.['x-death'] as unknown[]).length).toBe(1);
    expect((await ctl('replay_dead_letters', dlq, '--count', 'x')).code).toBe(64);
    expect((await ctl('replay_dead_letters', `${P}-nope`)).code).toBe(69);
  }, TIMEOUT);

  it('export_definitions and import_definitions (RabbitMQ\'s JSON, file or -)', async ({ skip }) => {
    const file = join(dir, 'defs.json');
    const exported = await ctl('export_definitions', file);
    notOffered(exported, skip);
    expect(exported).toMatchObject({ code: 0, stdout: `Exporting definitions in JSON to a file at "${file}" ...\n` });
    const defs = JSON.parse(readFileSync(file, 'utf8'));
    expect(defs.users).toContainEqual(expect.objectContaining({ name: 'guest' }));
    expect(defs.vhosts).toContainEqual(expect.objectContaining({ name: '/' }));
    const dash = await ctl('export_definitions', '-');
    expect(dash.code).toBe(0);
    expect(JSON.parse(dash.stdout)).toHaveProperty('queues');
    const q = `${P}-defq`;
    const mine = join(dir, 'import.json');
    writeFileSync(mine, JSON.stringify({ queues: [{ name: q, vhost: '/', durable: false, auto_delete: false, arguments: {} }] }));
    expect(await ctl('import_definitions', mine)).toMatchObject({
      code: 0, stdout: `Importing definitions in JSON from a file at "${mine}" ...\nSuccessfully started definition import. This process is asynchronous and can take some time.\n`,
    });
    await eventually(async () => (await http(`/api/queues/%2F/${q}`)).status === 200, 'the imported queue exists', { timeoutMs: 10_000, intervalMs: 200 });
    const piped = await warrenCtl(t, ['import_definitions'], { stdin: readFileSync(mine, 'utf8') });
    expect(piped).toMatchObject({ code: 0, stdout: 'Importing definitions in JSON from standard input ...\nSuccessfully started definition import. This process is asynchronous and can take some time.\n' });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{bad');
    expect(await ctl('import_definitions', bad)).toMatchObject({ code: 65 });
    expect((await ctl('import_definitions', bad)).stderr).toMatch(/^Error:\nFailed to deserialise input \(format: JSON\)/);
    const missing = await same(['import_definitions', join(dir, 'none.json')]);
    expect(missing.code).toBe(65);
  }, TIMEOUT);
});
