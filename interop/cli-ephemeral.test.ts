// `warren --ephemeral` and `warren ctl await_startup` as scripts use them (dist/main.js).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';
import { built, freePort, killAll, MAIN, startWarren } from '../test/support/process.js';

afterEach(killAll);

/** `warren ctl ...`: exit code and output. */
function ctl(args: string[]): { exited: Promise<{ code: number | null; out: string }> } {
  const proc = spawn(process.execPath, [MAIN, 'ctl', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  return { exited: new Promise((r) => proc.on('exit', (code) => r({ code, out }))) };
}

const dataDirOf = (output: string): string => /ephemeral mode: .*"dataDir":"([^"]+)"/.exec(output)![1]!;

describe.skipIf(external || !built)('warren --ephemeral', () => {
  it('keeps its data in a fresh temporary directory, says so, and removes it on SIGTERM', async () => {
    const w = startWarren(['--port', '0', '--ephemeral']);
    const port = await w.listening;
    expect(w.output()).toMatch(/ephemeral mode: .*durable queues and persistent messages last only as long as this process/);
    const dir = dataDirOf(w.output());
    expect(dir).not.toBe(process.env.WARREN_DATA_DIR); // the flag beats the env var startWarren sets
    expect(existsSync(dir)).toBe(true);
    const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    await (await c.createChannel()).assertQueue('q', { durable: true });
    await c.close();
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });

  it('WARREN_EPHEMERAL=1 wins over WARREN_DATA_DIR, and the directory goes when startup fails', async () => {
    const first = startWarren(['--port', '0']);
    const port = await first.listening;
    const w = startWarren(['--port', String(port)], { WARREN_EPHEMERAL: '1' });
    expect(await w.exited).toBe(1);
    expect(w.output()).toMatch(/EADDRINUSE/);
    expect(existsSync(dataDirOf(w.output()))).toBe(false);
  });

  it('refuses --ephemeral together with --data-dir, and a bad WARREN_EPHEMERAL, with exit code 2', async () => {
    const both = startWarren(['--ephemeral', '--data-dir', '/tmp/nowhere']);
    expect(await both.exited).toBe(2);
    expect(both.output()).toMatch(/--ephemeral and --data-dir exclude each other/);
    const bad = startWarren([], { WARREN_EPHEMERAL: 'maybe' });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/invalid WARREN_EPHEMERAL: maybe/);
  });
});

describe.skipIf(external || !built)('warren ctl await_startup', () => {
  it('waits for a broker that starts later and exits 0 once connection.start arrives', async () => {
    const port = await freePort();
    const waiting = ctl(['await_startup', '--port', String(port), '--timeout', '15']).exited;
    await new Promise((r) => setTimeout(r, 300));
    const w = startWarren(['--port', String(port), '--ephemeral']);
    await w.listening;
    const { code, out } = await waiting;
    expect(out).toMatch(new RegExp(`broker at 127\\.0\\.0\\.1:${port} is up`));
    expect(code).toBe(0);
    // A clean stop, not afterEach's SIGKILL, which would leave the ephemeral directory behind.
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(existsSync(dataDirOf(w.output()))).toBe(false);
  });

  it('exits 1 after the timeout when nothing listens, naming the last error', async () => {
    const port = await freePort();
    const { code, out } = await ctl(['await_startup', '--port', String(port), '--timeout', '0.3']).exited;
    expect(code).toBe(1);
    expect(out).toMatch(new RegExp(`no AMQP broker answered on 127\\.0\\.0\\.1:${port} within 0\\.3 s .*ECONNREFUSED`));
  });

  it('does not take a port that only accepts TCP for a broker', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const { code, out } = await ctl(['await_startup', '--port', String(port), '--timeout', '0.5']).exited;
      expect(code).toBe(1);
      expect(out).toMatch(/no connection\.start arrived/);
    } finally {
      silent.close();
    }
  });

  it('refuses an unknown ctl command with exit code 64, as rabbitmqctl', async () => {
    const { code, out } = await ctl(['no_such_command']).exited;
    expect(code).toBe(64);
    expect(out).toMatch(/Command 'no_such_command' not found/);
  });
});
