// `warren ctl` arguments: the command and where the broker is (the same WARREN_HOST /
// WARREN_PORT the broker reads).
import { parseArgs } from 'node:util';
import { USAGE } from './flags.js';
import { DEFAULTS } from './types.js';

const pickFrom = (env: NodeJS.ProcessEnv) => (flag: string | undefined, name: string): string | undefined => flag ?? env[name];

function intParser(what: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid ${what}: ${v}\n${USAGE}`);
  return n;
}

export interface AwaitStartupConfig {
  host: string;
  port: number;
  timeoutMs: number;
}

/** `warren ctl await_startup`: where to wait (the same WARREN_HOST/WARREN_PORT as the broker) and how long. */
export function parseCtl(argv: string[], env: NodeJS.ProcessEnv): { command: 'await_startup'; config: AwaitStartupConfig } | { help: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { port: { type: 'string' }, host: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return { help: USAGE };
  if (positionals.length !== 1 || positionals[0] !== 'await_startup') {
    throw new Error(`unknown ctl command: ${positionals.join(' ') || '(none)'} (known: await_startup)\n${USAGE}`);
  }
  const pick = pickFrom(env);
  const timeout = Number(values.timeout ?? 60);
  if (!(timeout >= 0)) throw new Error(`invalid timeout: ${values.timeout}\n${USAGE}`);
  return {
    command: 'await_startup',
    config: {
      host: pick(values.host, 'WARREN_HOST') ?? DEFAULTS.host,
      port: intParser('port', pick(values.port, 'WARREN_PORT'), DEFAULTS.port),
      timeoutMs: timeout * 1000,
    },
  };
}

