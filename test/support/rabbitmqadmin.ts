// Debian's rabbitmqadmin (the Python CLI the rabbitmq-server package ships inside the
// management plugin), run against a management API the way a user's script runs it.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's rabbitmq-server package puts rabbitmqadmin, or null when it is not installed. */
export function findRabbitmqadmin(): string | null {
  const lib = '/usr/lib/rabbitmq/lib';
  if (existsSync(lib)) {
    for (const server of readdirSync(lib).filter((d) => d.startsWith('rabbitmq_server-'))) {
      const plugins = join(lib, server, 'plugins');
      for (const p of existsSync(plugins) ? readdirSync(plugins).filter((d) => d.startsWith('rabbitmq_management-')) : []) {
        const f = join(plugins, p, 'priv', 'www', 'cli', 'rabbitmqadmin');
        if (existsSync(f)) return f;
      }
    }
  }
  return existsSync('/usr/bin/rabbitmqadmin') ? '/usr/bin/rabbitmqadmin' : null;
}

export interface AdminRun { code: number; stdout: string; stderr: string }

/** Run `rabbitmqadmin -H 127.0.0.1 -P <port> <args>`; resolves with its exit code and output. */
export function rabbitmqadmin(script: string, port: number, args: string[]): Promise<AdminRun> {
  return new Promise((resolve) => {
    execFile('python3', [script, '-H', '127.0.0.1', '-P', String(port), '-u', 'guest', '-p', 'guest', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
