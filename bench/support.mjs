// Shared by the bench scripts that run dist/main.js as a child process: starting a broker on a
// free loopback port and watching its RSS, and recording figures in results.md.
import { execSync, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * `warren --port 0` on dataDir. listening resolves with the port and the ms from spawn to the
 * startup line (rejects if the broker exits first); peak() is the highest RSS seen, in MiB.
 */
export function startBroker(dataDir, extraArgs = []) {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [join(here, '..', 'dist', 'main.js'), '--port', '0', '--management-port', '0', '--prometheus-port', '0', '--host', '127.0.0.1',
    '--data-dir', dataDir, '--log-level', 'info', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch { /* exited */ }
  }, 50);
  const exited = new Promise((r) => proc.on('exit', (code, signal) => { clearInterval(timer); r({ code, signal }); }));
  const listening = new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d;
      const m = /listening for AMQP 0-9-1 on [^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (c) => reject(new Error(`broker exited ${c}: ${out}`)));
  });
  listening.catch(() => {}); // callers that expect a failed start await `exited`
  return {
    proc, exited, output: () => out, peak: () => peak,
    listening: listening.then((port) => ({ port, startMs: performance.now() - t0 })),
  };
}

export const commit = () => {
  try { return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(); } catch { return 'unknown'; }
};

/** Appends a dated, commit-tagged block of figures to bench/results.md. */
export function record(title, lines) {
  appendFileSync(join(here, 'results.md'),
    `\n### ${new Date().toISOString()} commit ${commit()}: ${title}\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`);
}

/**
 * Publishes n messages of `size` bytes to `queue` on channel 1 of a connected Peer in confirm
 * mode, at most `window` unconfirmed; the first 4 body bytes carry the message's index (the
 * drains check order by it). Resolves with the publish rate in msg/s.
 */
export async function publishConfirmed(p, queue, n, size, persistent, window) {
  const body = Buffer.alloc(size, 0x61);
  let sent = 0;
  let confirmed = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    let paused = false;
    const pump = () => {
      paused = false;
      while (sent < n && sent - confirmed < window) {
        body.writeUInt32BE(sent, 0);
        p.publish(1, '', queue, body, persistent);
        sent++;
      }
      p.flush();
      paused = true;
    };
    p.onAck = (tag, multiple) => {
      confirmed = multiple ? tag : Math.max(confirmed, tag);
      if (confirmed >= n) return resolve();
      if (paused) setImmediate(pump);
    };
    pump();
  });
  return n / ((performance.now() - t0) / 1000);
}
