// `warren ctl` as a user runs it (node dist/main.js ctl ...), against a Warren child process
// with its management API on a free port, or in differential mode (WARREN_EXTERNAL_HTTP, e.g.
// http://127.0.0.1:15711 from interop/differential/rabbitmq.sh start 5711) against that
// RabbitMQ. There, `rabbitmqctl()` runs the real rabbitmqctl against the same node (the
// script's node name, HOME and epmd port), so a test can hold both outputs side by side.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort, killAll, MAIN, startWarren } from './process.js';

export const externalHttp = process.env.WARREN_EXTERNAL_HTTP || undefined;

export interface Run { code: number; stdout: string; stderr: string }

export interface CtlTarget {
  /** amqp:// URL of the broker, for making state with amqplib. */
  amqpUrl: string;
  managementPort: number;
  stop(): Promise<void>;
}

/** A Warren on free ports (AMQP and management), or the external broker in differential mode. */
export async function ctlTarget(): Promise<CtlTarget> {
  if (externalHttp !== undefined) {
    const managementPort = Number(new URL(externalHttp).port);
    const amqpUrl = process.env.WARREN_EXTERNAL_URL || `amqp://guest:guest@127.0.0.1:${managementPort - 10000}`;
    return { amqpUrl, managementPort, stop: async () => {} };
  }
  const managementPort = await freePort();
  const w = startWarren(['--port', '0', '--management-port', String(managementPort)]);
  const port = await w.listening;
  return {
    amqpUrl: `amqp://guest:guest@127.0.0.1:${port}`,
    managementPort,
    stop: async () => {
      w.proc.kill('SIGTERM');
      await w.exited;
      killAll();
    },
  };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, stdin: string | undefined): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(stdin ?? '');
  });
}

/** `warren ctl --management-port P <args>`; `stdin` is written to its standard input. */
export function warrenCtl(target: CtlTarget, args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return run(process.execPath, [MAIN, 'ctl', '--management-port', String(target.managementPort), ...args], { ...process.env, ...opts.env }, opts.stdin);
}

const RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';

/** The real rabbitmqctl for the node rabbitmq.sh started, or null outside differential mode. */
export function rabbitmqctlFor(target: CtlTarget): ((args: string[], stdin?: string) => Promise<Run>) | null {
  if (externalHttp === undefined || !existsSync(RABBITMQCTL)) return null;
  const port = new URL(target.amqpUrl).port;
  const home = `/tmp/warren-rabbit-${port}/home`;
  if (!existsSync(home)) return null;
  const env = { ...process.env, HOME: home, ERL_EPMD_PORT: String(Number(port) + 19000) };
  return (args, stdin) => run(RABBITMQCTL, ['-n', `warren${port}@localhost`, ...args], env, stdin);
}
