// `warren ctl` set_policy / clear_policy / list_policies and the operator-policy commands, as
// interop/ctl.test.ts runs the other commands: against a Warren child process with rabbitmqctl
// 3.10's lines, texts and exit codes asserted literally, and in differential mode
// (WARREN_EXTERNAL_HTTP, after interop/differential/rabbitmq.sh start PORT) against that
// RabbitMQ with the real rabbitmqctl next to each command. A policy must also take effect: a
// queue its pattern matches is capped at its max-length.
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare } from '../test/support/ctl-compare.js';
import { ctlTarget, warrenCtl, type CtlTarget } from '../test/support/ctl.js';
import { built } from '../test/support/process.js';
import { eventually } from '../test/support/suite.js';

const P = `ctlpol${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const TIMEOUT = 60_000;
let t: CtlTarget;
let conn: ChannelModel;
let ch: Channel;
const ctl = (...args: string[]) => warrenCtl(t, args);
const { same, twin } = compare(() => t, P);
const mine = (row: string) => row.includes(P);

describe.skipIf(!built)('warren ctl policies', () => {
  beforeAll(async () => {
    t = await ctlTarget();
    conn = await amqp.connect(t.amqpUrl);
    ch = await conn.createChannel();
  });
  afterAll(async () => {
    // The differential node is shared with other suites: leave no policy of ours behind.
    for (const s of ['a', 'b']) {
      await ctl('-q', 'clear_policy', `${P}-pol-${s}`);
      await ctl('-q', 'clear_operator_policy', `${P}-op-${s}`);
      await ch?.deleteQueue(`${P}-pq-${s}`).catch(() => {});
    }
    await conn?.close().catch(() => {});
    await t?.stop();
  });

  it('set_policy with priority and apply-to, list_policies (table, -q, JSON), the policy capping a queue, clear_policy', async () => {
    const set = await twin((s) => ['set_policy', '--priority', '2', '--apply-to', 'queues', `${P}-pol-${s}`, `^${P}-pq-${s}$`, '{"max-length":1,"expires":600000}']);
    expect(set).toMatchObject({
      code: 0, stderr: '',
      stdout: `Setting policy "${P}-pol-a" for pattern "^${P}-pq-a$" to "{"max-length":1,"expires":600000}" with priority "2" for vhost "/" ...\n`,
    });
    const row = `/\t${P}-pol-a\t^${P}-pq-a$\tqueues\t{"expires":600000,"max-length":1}\t2`;
    const list = await same(['list_policies'], mine);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^Listing policies for vhost "\/" \.\.\.\nvhost\tname\tpattern\tapply-to\tdefinition\tpriority\n/);
    expect(list.stdout.split('\n')).toContain(row);
    const quiet = await same(['-q', 'list_policies', '--no-table-headers'], mine);
    expect(quiet.stdout.split('\n')).toContain(row);
    expect(quiet.stdout).not.toMatch(/Listing|^vhost\t/m);
    const json = await ctl('list_policies', '--formatter', 'json');
    expect(json.stdout).toMatch(/^\[\n\{.*\}\n(,\{.*\}\n)*\]\n$/);
    expect(JSON.parse(json.stdout)).toContainEqual({
      vhost: '/', name: `${P}-pol-a`, pattern: `^${P}-pq-a$`, 'apply-to': 'queues', definition: '{"expires":600000,"max-length":1}', priority: 2,
    });
    // In effect: the queue the pattern matches keeps one message of three.
    const q = `${P}-pq-a`;
    await ch.assertQueue(q, { durable: false });
    for (const b of ['1', '2', '3']) ch.sendToQueue(q, Buffer.from(b));
    await eventually(async () => (await ch.checkQueue(q)).messageCount === 1, 'the policy caps the queue at 1', { timeoutMs: 10_000 });
    // Setting it again (priority 0, the default) updates it.
    expect((await twin((s) => ['set_policy', `${P}-pol-${s}`, `^${P}-pq-${s}$`, '{"max-length":2}'])).stdout).toContain('with priority "0" for vhost "/" ...');
    expect((await ctl('-q', 'list_policies')).stdout.split('\n')).toContain(`/\t${P}-pol-a\t^${P}-pq-a$\tall\t{"max-length":2}\t0`);
    expect(await twin((s) => ['clear_policy', `${P}-pol-${s}`])).toMatchObject({ code: 0, stdout: `Clearing policy "${P}-pol-a" on vhost "/" ...\n`, stderr: '' });
    expect((await ctl('list_policies')).stdout).not.toContain(`${P}-pol-a`);
    expect(await twin((s) => ['clear_policy', `${P}-pol-${s}`])).toMatchObject({ code: 69, stderr: 'Error:\nParameter does not exist\n' });
  }, TIMEOUT);

  it('refusals: bad JSON and refused definitions 69 with rabbitmqctl\'s texts, an unknown vhost 65, argument errors 64', async () => {
    const name = `${P}-pol-x`;
    const setting = (def: string, vhost = '/') => `Setting policy "${name}" for pattern "^x" to "${def}" with priority "0" for vhost "${vhost}" ...\n`;
    expect(await same(['set_policy', name, '^x', '{bad'])).toMatchObject({ code: 69, stdout: setting('{bad'), stderr: 'Error:\nJSON decoding error. Reason: badarg\n' });
    // The API escapes the policy refusal for HTML; rabbitmqctl prints it as it is.
    expect(await same(['set_policy', name, '^x', '{"max-length":"<x&>"}'])).toMatchObject({
      code: 69, stderr: 'Error:\nValidation failed\n\n<<"<x&>">> is not a valid maximum length\n\n',
    });
    expect(await same(['set_policy', name, '^x', '{"bogus":1}'])).toMatchObject({ code: 69, stderr: 'Error:\nValidation failed\n\n[{<<"bogus">>,1}] are not recognised policy settings\n\n' });
    expect(await same(['set_policy', name, '^x', '{}'])).toMatchObject({ code: 69, stderr: 'Error:\nValidation failed\n\nno policy provided\n\n' });
    expect(await same(['set_policy', '--apply-to', 'streams', name, '^x', '{"max-length":1}'])).toMatchObject({
      code: 69, stderr: 'Error:\nValidation failed\n\napply-to \'streams\' unrecognised; should be \'queues\', \'exchanges\' or \'all\'\n\n',
    });
    const novhost = `${P}-novhost`;
    expect(await same(['set_policy', '-p', novhost, name, '^x', '{"max-length":1}'])).toMatchObject({
      code: 65, stdout: setting('{"max-length":1}', novhost), stderr: `Virtual host '${novhost}' does not exist\n`,
    });
    expect(await same(['list_policies', '-p', novhost])).toMatchObject({ code: 65, stdout: `Listing policies for vhost "${novhost}" ...\n`, stderr: `Virtual host '${novhost}' does not exist\n` });
    expect(await same(['clear_policy', '-p', novhost, name])).toMatchObject({ code: 69, stderr: 'Error:\nParameter does not exist\n' });
    for (const args of [['set_policy', name, '^x'], ['set_policy', name, '^x', '{}', 'extra'], ['clear_policy'], ['list_policies', 'name'], ['set_operator_policy', name]]) {
      expect((await same(args)).code, args.join(' ')).toBe(64);
    }
    const prio = await same(['set_policy', '--priority', '1.5', name, '^x', '{"max-length":1}']);
    expect(prio).toMatchObject({ code: 64, stdout: '' });
    expect(prio.stderr).toMatch(/^Error \(argument validation\): Invalid options for this command:\n--priority : 1\.5\nArguments given:\n/);
    expect((await ctl('list_policies')).stdout).not.toContain(name);
  }, TIMEOUT);

  it('operator policies: set_operator_policy, list_operator_policies, clear_operator_policy', async () => {
    const set = await twin((s) => ['set_operator_policy', '--priority', '-1', '--apply-to', 'queues', `${P}-op-${s}`, `^${P}-opq-${s}`, '{"message-ttl":60000,"max-length":5}']);
    expect(set).toMatchObject({
      code: 0, stdout: `Setting operator policy override "${P}-op-a" for pattern "^${P}-opq-a" to "{"message-ttl":60000,"max-length":5}" with priority "-1" for vhost "/" ...\n`,
    });
    const list = await same(['list_operator_policies'], mine);
    expect(list.stdout).toMatch(/^Listing operator policy overrides for vhost "\/" \.\.\.\nvhost\tname\tpattern\tapply-to\tdefinition\tpriority\n/);
    expect(list.stdout.split('\n')).toContain(`/\t${P}-op-a\t^${P}-opq-a\tqueues\t{"max-length":5,"message-ttl":60000}\t-1`);
    expect(JSON.parse((await ctl('list_operator_policies', '--formatter', 'json')).stdout)).toContainEqual(expect.objectContaining({ name: `${P}-op-a`, priority: -1 }));
    // Operator policies take fewer keys, and the API does not escape their refusals.
    expect(await same(['set_operator_policy', `${P}-op-x`, '^x', '{"dead-letter-exchange":"<dlx>"}'])).toMatchObject({
      code: 69, stderr: 'Error:\nValidation failed\n\n[{<<"dead-letter-exchange">>,<<"<dlx>">>}] are not recognised policy settings\n\n',
    });
    expect(await same(['list_operator_policies', '-p', `${P}-novhost`])).toMatchObject({ code: 65 });
    expect(await twin((s) => ['clear_operator_policy', `${P}-op-${s}`])).toMatchObject({ code: 0, stdout: `Clearing operator policy "${P}-op-a" on vhost "/" ...\n` });
    expect(await twin((s) => ['clear_operator_policy', `${P}-op-${s}`])).toMatchObject({ code: 69, stderr: 'Error:\nParameter does not exist\n' });
    expect((await ctl('list_operator_policies')).stdout).not.toContain(`${P}-op-a`);
  }, TIMEOUT);
});
