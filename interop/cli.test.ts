// The `warren` command as a user runs it: flags, env vars, startup log, signals.
// Uses the compiled dist/main.js (`npm test` builds first).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';
import { built, killAll, MAIN, startWarren, tmpDataDir } from '../test/support/process.js';
import { makePki, removeCerts, type TestPki } from '../test/support/tls-certs.js';

afterEach(killAll);

/** Runs warren to its exit; its code and stderr. */
async function runToExit(args: string[], env: Record<string, string> = {}): Promise<{ code: unknown; err: string }> {
  const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((r) => proc.on('exit', r));
  return { code, err };
}

function confFile(text: string): string {
  const file = join(tmpDataDir(), 'rabbitmq.conf');
  writeFileSync(file, text);
  return file;
}

describe.skipIf(external || !built)('warren CLI', () => {
  it('starts on the given port, logs where it listens and its data dir, and stops on SIGTERM with 320 to clients', async () => {
    const dataDir = tmpDataDir();
    const w = startWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'info']);
    const port = await w.listening;
    expect(w.output()).toContain(dataDir);
    const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const closed = new Promise<Error>((r) => c.on('close', r));
    c.on('error', () => {});
    w.proc.kill('SIGTERM');
    expect(String(await closed)).toMatch(/320 \(CONNECTION-FORCED\)/);
    expect(await w.exited).toBe(0);
  });

  it('stops on SIGINT with exit code 0', async () => {
    const w = startWarren(['--port', '0']);
    await w.listening;
    w.proc.kill('SIGINT');
    expect(await w.exited).toBe(0);
  });

  it('reads its settings from WARREN_* environment variables', async () => {
    const w = startWarren([], { WARREN_PORT: '0', WARREN_HOST: '127.0.0.1', WARREN_LOG_LEVEL: 'debug' });
    const port = await w.listening;
    const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    await c.close();
    expect(w.output()).toMatch(/debug/); // debug level took effect
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });

  it('refuses a bad flag value with a usage message and exit code 2', async () => {
    const proc = spawn(process.execPath, [MAIN, '--port', 'abc'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    const code = await new Promise((r) => proc.on('exit', r));
    expect(code).toBe(2);
    expect(err).toMatch(/invalid port: abc/);
    expect(err).toMatch(/usage: warren/);
  });

  it('says why when the port is taken, and exits 1', async () => {
    const first = startWarren(['--port', '0']);
    const port = await first.listening;
    const second = startWarren(['--port', String(port)]);
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  });

  it('refuses a data directory another broker holds, naming it and that broker\'s pid, and exits 1', async () => {
    const dataDir = tmpDataDir();
    const first = startWarren(['--port', '0', '--data-dir', dataDir]);
    await first.listening;
    const second = startWarren(['--port', '0', '--data-dir', dataDir]);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`Warren cannot start: data directory ${dataDir} is in use by another process (pid ${first.proc.pid}`);
  });

  it('refuses a corrupt store file with an error naming it, never an empty broker', async () => {
    const dataDir = tmpDataDir();
    writeFileSync(join(dataDir, 'warren.db'), Buffer.alloc(8192, 0x5a));
    const w = startWarren(['--port', '0', '--data-dir', dataDir]);
    expect(await w.exited).toBe(1);
    expect(w.output()).toContain(`${join(dataDir, 'warren.db')} is not a valid Warren database`);
    expect(w.output()).not.toMatch(/listening/);
  });

  it('reads --config FILE: listeners, default user and vhost, heartbeat; warns about an unknown key with file and line', async () => {
    const file = confFile('listeners.tcp.default = 127.0.0.1:0\ndefault_user = app\ndefault_pass = app-pw\ndefault_vhost = dev\nheartbeat = 7\nno.such.key = 1\n');
    const w = startWarren(['--config', file]);
    const port = await w.listening;
    expect(w.output()).toContain(`${file}:6: unknown key 'no.such.key' ignored`);
    const c = await amqp.connect(`amqp://app:app-pw@127.0.0.1:${port}/dev`);
    expect((c.connection as unknown as { heartbeat: number }).heartbeat).toBe(7);
    await c.close();
    await expect(amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`)).rejects.toThrow(/ACCESS-REFUSED/);
  });

  it('takes RABBITMQ_DEFAULT_USER / _PASS / _VHOST, and flags over them over the file', async () => {
    const file = confFile('listeners.tcp.default = 127.0.0.1:1\ndefault_user = file-user\ndefault_pass = file-pw\n');
    const w = startWarren(['--config', file, '--port', '0'], { RABBITMQ_DEFAULT_USER: 'env-user', RABBITMQ_DEFAULT_VHOST: 'env-vhost' });
    const port = await w.listening;
    const c = await amqp.connect(`amqp://env-user:file-pw@127.0.0.1:${port}/env-vhost`);
    await c.close();
  });

  it('refuses a malformed value with file, line, key and what was expected, and exit code 2', async () => {
    const file = confFile('# dev setup\nlisteners.tcp.default = 5672\nheartbeat = abc\n');
    const { code, err } = await runToExit(['--config', file]);
    expect(code).toBe(2);
    expect(err).toContain(`${file}:3: heartbeat: expected a non-negative integer, got 'abc'`);
  });

  it('refuses a config file that does not exist with exit code 2', async () => {
    const { code, err } = await runToExit(['--config', '/nonexistent/rabbitmq.conf']);
    expect(code).toBe(2);
    expect(err).toMatch(/cannot read config file \/nonexistent\/rabbitmq\.conf/);
  });

  describe('amqps', () => {
    let pki: TestPki | undefined;
    afterEach(() => { removeCerts(pki); pki = undefined; });

    it('listens for amqps with --tls-port, --tls-cert, --tls-key, --tls-ca; EXTERNAL through the config file', async () => {
      pki = makePki({ app: '/CN=app' });
      const file = confFile('ssl_options.verify = verify_peer\nauth_mechanisms.1 = PLAIN\nauth_mechanisms.2 = EXTERNAL\ndefault_user = app\nloopback_users.guest = false\n');
      const w = startWarren(['--config', file, '--port', '0', '--tls-port', '0', '--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-ca', pki.ca]);
      await w.listening;
      let m: RegExpExecArray | null = null;
      for (let i = 0; i < 100 && !m; i++, await new Promise((r) => setTimeout(r, 10))) m = /over TLS \(amqps\) on 127\.0\.0\.1:(\d+)/.exec(w.output());
      const tlsPort = Number(m![1]);
      const client = pki.clients.app!;
      const c = await amqp.connect(`amqps://127.0.0.1:${tlsPort}`, {
        ca: [pki.read(pki.ca)], cert: pki.read(client.cert), key: pki.read(client.key), credentials: amqp.credentials.external(),
      });
      await c.close();
    });
  });
});
