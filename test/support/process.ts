// The `warren` command as a child process (dist/main.js; `npm test` builds first), for tests
// of the CLI, signals and crashes. Every process started here is SIGKILLed by killAll().
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');
export const built = existsSync(MAIN);

const running: ChildProcess[] = [];
const dataDirs: string[] = [];

export interface WarrenProcess {
  proc: ChildProcess;
  /** The port from the startup line; rejects if the process exits first. */
  listening: Promise<number>;
  exited: Promise<number | null>;
  output(): string;
}

/**
 * Start warren and watch for the line that says where it listens. Each gets a fresh data dir
 * (through the environment, so a --data-dir flag still wins) unless env names one.
 */
/** A fresh data directory, removed by killAll(). */
export function tmpDataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'warren-cli-'));
  dataDirs.push(d);
  return d;
}

export function startWarren(args: string[], env: Record<string, string> = {}): WarrenProcess {
  const dataDir = { WARREN_DATA_DIR: tmpDataDir() };
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
  listening.catch(() => {}); // a test that expects a failed start awaits `exited` instead
  return { proc, listening, exited, output: () => output };
}

/** SIGKILLs every process started here and removes the data dirs made for them. */
export function killAll(): void {
  for (const p of running.splice(0)) p.kill('SIGKILL');
  for (const d of dataDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A port nothing listens on right now, as the OS hands it out. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
