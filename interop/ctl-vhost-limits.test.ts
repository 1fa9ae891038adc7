// `warren ctl` set_vhost_limits / clear_vhost_limits / list_vhost_limits, as interop/ctl.test.ts
// runs the other commands: against a Warren child process with rabbitmqctl 3.10's lines, texts
// and exit codes asserted literally, and in differential mode (WARREN_EXTERNAL_HTTP, after
// interop/differential/rabbitmq.sh start PORT) against that RabbitMQ with the real rabbitmqctl
// next to each command, on twin vhosts. A limit set must also be enforced: max-queues 0 refuses
// a new queue.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare } from '../test/support/ctl-compare.js';
import { ctlTarget, warrenCtl, type CtlTarget } from '../test/support/ctl.js';
import { built } from '../test/support/process.js';

const P = `ctllim${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const TIMEOUT = 60_000;
let t: CtlTarget;
const ctl = (...args: string[]) => warrenCtl(t, args);
const { same, twin } = compare(() => t, P);
const v = (s: string) => `${P}-vh-${s}`;

describe.skipIf(!built)('warren ctl vhost limits', () => {
  beforeAll(async () => {
    t = await ctlTarget();
    for (const s of ['a', 'b']) expect((await ctl('-q', 'add_vhost', v(s))).code).toBe(0);
  });
  afterAll(async () => {
    for (const s of ['a', 'b']) await ctl('-q', 'delete_vhost', v(s));
    await t?.stop();
  });

  it('set_vhost_limits replaces all of them, list_vhost_limits shows them (one vhost, --global, JSON), clear_vhost_limits removes them', async () => {
    expect(await twin((s) => ['set_vhost_limits', '-p', v(s), '{"max-queues":0,"max-connections":100}'])).toMatchObject({
      code: 0, stderr: '', stdout: `Setting vhost limits to "{"max-queues":0,"max-connections":100}" for vhost "${v('a')}" ...\n`,
    });
    expect(await twin((s) => ['list_vhost_limits', '-p', v(s)])).toMatchObject({
      code: 0, stdout: `Listing limits for vhost "${v('a')}" ...\n{"max-connections":100,"max-queues":0}\n`,
    });
    expect(JSON.parse((await ctl('list_vhost_limits', '-p', v('a'), '--formatter', 'json')).stdout)).toEqual({
      node: expect.any(String), result: 'ok', value: '{"max-connections":100,"max-queues":0}',
    });
    const global = await same(['list_vhost_limits', '--global'], (row) => row.includes(P));
    expect(global.stdout).toMatch(/^Listing limits for all vhosts \.\.\.\nvhost\tlimits\n/);
    expect(global.stdout.split('\n')).toContain(`${v('a')}\t{"max-connections":100,"max-queues":0}`);
    expect(JSON.parse((await ctl('list_vhost_limits', '--global', '--formatter', 'json')).stdout)).toContainEqual({ vhost: v('a'), limits: '{"max-connections":100,"max-queues":0}' });
    // In force: max-queues 0 refuses a new queue.
    const c = await amqp.connect(`${t.amqpUrl}/${encodeURIComponent(v('a'))}`);
    const ch = await c.createChannel();
    ch.on('error', () => {});
    await expect(ch.assertQueue('q', { durable: false })).rejects.toThrow(`cannot declare queue 'q': queue limit in vhost '${v('a')}' (0) is reached`);
    await c.close();
    // Replaced whole: max-connections goes.
    expect((await twin((s) => ['set_vhost_limits', '-p', v(s), '{"max-queues":-1}'])).code).toBe(0);
    expect((await ctl('-q', 'list_vhost_limits', '-p', v('a'))).stdout).toBe('{"max-queues":-1}\n');
    expect((await twin((s) => ['set_vhost_limits', '-p', v(s), '{}'])).code).toBe(0);
    expect(await twin((s) => ['list_vhost_limits', '-p', v(s)])).toMatchObject({ code: 0, stdout: `Listing limits for vhost "${v('a')}" ...\n\n` });
    expect(await twin((s) => ['clear_vhost_limits', '-p', v(s)])).toMatchObject({ code: 0, stdout: `Clearing vhost "${v('a')}" limits ...\n`, stderr: '' });
    expect(await twin((s) => ['clear_vhost_limits', '-p', v(s)])).toMatchObject({ code: 69, stderr: 'Error:\nParameter does not exist\n' });
    expect((await ctl('list_vhost_limits', '--global')).stdout).not.toContain(v('a'));
  }, TIMEOUT);

  it('refusals: bad JSON and refused limits 69 with rabbitmqctl\'s texts, an unknown vhost 65, argument errors 64', async () => {
    const setting = (text: string) => `Setting vhost limits to "${text}" for vhost "${v('a')}" ...\n`;
    expect(await twin((s) => ['set_vhost_limits', '-p', v(s), '{bad'])).toMatchObject({ code: 69, stdout: setting('{bad'), stderr: 'Error:\nJSON decoding error. Reason: badarg\n' });
    expect(await twin((s) => ['set_vhost_limits', '-p', v(s), '{"max-queues":"<x>","bogus":1,"zz":2}'])).toMatchObject({
      code: 69, stderr: 'Error:\nValidation failed\n\nUnrecognised terms [{<<"bogus">>,1},{<<"zz">>,2}] in limits\nmax-queues should be a number, actually was <<"<x>">>\n\n',
    });
    expect(await twin((s) => ['set_vhost_limits', '-p', v(s), '{"max-connections":1.5}'])).toMatchObject({
      code: 69, stderr: 'Error:\nValidation failed\n\nmax-connections should be a number, actually was 1.5\n\n',
    });
    expect((await ctl('list_vhost_limits', '-p', v('a'))).stdout).toBe(`Listing limits for vhost "${v('a')}" ...\n\n`);
    const none = `${P}-novhost`;
    expect(await same(['set_vhost_limits', '-p', none, '{"max-queues":1}'])).toMatchObject({ code: 65, stderr: `Virtual host '${none}' does not exist\n` });
    expect(await same(['list_vhost_limits', '-p', none])).toMatchObject({ code: 65, stdout: `Listing limits for vhost "${none}" ...\n`, stderr: `Virtual host '${none}' does not exist\n` });
    expect(await same(['clear_vhost_limits', '-p', none])).toMatchObject({ code: 69, stderr: 'Error:\nParameter does not exist\n' });
    for (const args of [['set_vhost_limits'], ['set_vhost_limits', '{}', 'x'], ['clear_vhost_limits', 'x'], ['list_vhost_limits', 'x']]) {
      const r = await same(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(/^Error \(argument validation\): (not enough|too many) arguments\./);
    }
  }, TIMEOUT);
});
