// A private RabbitMQ node for tests that need the real thing beside Warren (a definitions
// round trip), started and stopped with interop/differential/rabbitmq.sh. Null when Debian's
// rabbitmq-server is not installed (.ci/run installs it).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'interop', 'differential', 'rabbitmq.sh');
export const rabbitmqInstalled = existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server');

export interface RabbitNode {
  amqpUrl: string;
  /** The management plugin's base URL. */
  http: string;
  stop(): Promise<void>;
}

function run(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`rabbitmq.sh ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Starts a node on `port` (management on port + 10000); resolves once both answer. */
export async function startRabbit(port: number): Promise<RabbitNode> {
  await run(['start', String(port)], 120_000);
  return {
    amqpUrl: `amqp://guest:guest@127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port + 10000}`,
    stop: async () => { await run(['stop', String(port)], 90_000); },
  };
}
