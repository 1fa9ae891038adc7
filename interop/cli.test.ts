// The `warren` command as a user runs it: flags, env vars, startup log, signals.
// Uses the compiled dist/main.js (`npm test` builds first).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const running: ChildProcess[] = [];
afterEach(() => { for (const p of running.splice(0)) p.kill('SIGKILL'); });

/**
 * Start warren and wait for the line that says where it listens. Each gets a fresh data dir
 * (through the environment, so a --data-dir flag still wins) unless env names one.
 */
function startWarren(args: string[], env: Record<string, string> = {}) {
  const dataDir = { WARREN_DATA_DIR: mkdtempSync(join(tmpdir(), 'warren-cli-')) };
  const proc = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...dataDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(proc);
  let output = '';
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const listening = new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening for AMQP 0-9-1 on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`warren exited with ${code}: ${output}`)));
  });
  return { proc, listening, exited, output: () => output };
}

describe.skipIf(external || !existsSync(MAIN))('warren CLI', () => {
  it('starts on the given port, logs where it listens and its data dir, and stops on SIGTERM with 320 to clients', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-cli-'));
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
    running.push(proc);
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
    second.listening.catch(() => {});
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  });
});
