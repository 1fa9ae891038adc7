// The `warren` command as a user runs it: flags, env vars, startup log, signals.
// Uses the compiled dist/main.js (`npm test` builds first).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';
import { built, killAll, MAIN, startWarren, tmpDataDir } from '../test/support/process.js';

afterEach(killAll);

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
});
