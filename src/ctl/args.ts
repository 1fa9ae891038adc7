// `warren ctl` arguments, read as rabbitmqctl 3.10 reads them: a command, its positionals, the
// general options (-q, --formatter, --no-table-headers, -t, -n, -l), the command's own options
// (-p/--vhost, delete_queue's -e/-u, add_vhost's --description, ...), and where the management
// API is (--host, --management-port, --username, --password). Credentials have long names
// only: rabbitmqctl's -p is the vhost and delete_queue's -u is --if-unused.
import { parseArgs } from 'node:util';

/** rabbitmqctl's exit codes (RabbitMQ.CLI.Core.ExitCodes, sysexits.h). */
export const EXIT = { ok: 0, usage: 64, dataerr: 65, nouser: 67, unavailable: 69, software: 70, tempfail: 75, noperm: 77 } as const;

/** A failure the command reports: what goes to stderr and the exit code. */
export class CtlError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Every option warren ctl knows; which a command may take is in its spec (commands.ts). */
export const OPTIONS = {
  host: { type: 'string' },
  'management-port': { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  vhost: { type: 'string', short: 'p' },
  quiet: { type: 'boolean', short: 'q' },
  silent: { type: 'boolean', short: 's' },
  formatter: { type: 'string' },
  'no-table-headers': { type: 'boolean' },
  timeout: { type: 'string', short: 't' },
  node: { type: 'string', short: 'n' },
  longnames: { type: 'boolean', short: 'l' },
  help: { type: 'boolean', short: '?' },
  'if-empty': { type: 'boolean', short: 'e' },
  'if-unused': { type: 'boolean', short: 'u' },
  description: { type: 'string' },
  tags: { type: 'string' },
  'default-queue-type': { type: 'string' },
  online: { type: 'boolean' },
  offline: { type: 'boolean' },
  local: { type: 'boolean' },
  format: { type: 'string' },
  'skip-if-unchanged': { type: 'boolean' },
  count: { type: 'string' },
  to: { type: 'string' },
  priority: { type: 'string' },
  'apply-to': { type: 'string' },
  global: { type: 'boolean' },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Options every command takes. */
export const GENERAL: readonly OptionName[] = ['host', 'management-port', 'username', 'password', 'quiet', 'silent', 'formatter', 'timeout', 'node', 'longnames', 'help'];

export interface Parsed {
  command: string | undefined;
  positionals: string[];
  values: Partial<Record<OptionName, string | boolean>>;
  /** Options given that warren ctl does not know at all, as written ('--bogus'). */
  unknown: string[];
}

/** Splits argv; an option's value is taken for string options (`-p /`, `--vhost=/`). */
export function parseCtlArgs(argv: string[]): Parsed {
  const { values, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  const unknown: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === 'option' && !(t.name in OPTIONS)) unknown.push(t.rawName);
  }
  const [command, ...rest] = positionals;
  return { command, positionals: rest, values: values as Parsed['values'], unknown };
}

/** The command word alone, for main.ts to choose between await_startup and the rest. */
export function ctlCommand(argv: string[]): string | undefined {
  try {
    return parseCtlArgs(argv).command;
  } catch {
    return undefined;
  }
}

export interface Target {
  /** http://host:port, no trailing slash. */
  base: string;
  username: string;
  password: string;
  timeoutMs: number;
}

/** Where the management API is: flags, then WARREN_* variables, then the docker image's defaults. */
export function targetOf(values: Parsed['values'], env: NodeJS.ProcessEnv): Target {
  const str = (flag: OptionName, ...names: string[]): string | undefined => {
    const f = values[flag];
    if (typeof f === 'string') return f;
    for (const n of names) if (env[n] !== undefined && env[n] !== '') return env[n];
    return undefined;
  };
  const host = str('host', 'WARREN_MANAGEMENT_HOST', 'WARREN_HOST') ?? '127.0.0.1';
  const portText = str('management-port', 'WARREN_MANAGEMENT_PORT') ?? '15672';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CtlError(EXIT.usage, `Error (argument validation): invalid management port: ${portText}`);
  if (port === 0) {
    throw new CtlError(EXIT.unavailable, 'Error: the management API is turned off (management port 0); give the port it listens on with --management-port or WARREN_MANAGEMENT_PORT');
  }
  const timeoutText = typeof values.timeout === 'string' ? values.timeout : '60';
  const timeout = Number(timeoutText);
  if (!(timeout > 0)) throw new CtlError(EXIT.usage, `Error (argument validation): invalid timeout: ${timeoutText}`);
  return {
    base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    username: str('username', 'WARREN_USERNAME', 'RABBITMQ_DEFAULT_USER') ?? 'guest',
    password: str('password', 'WARREN_PASSWORD', 'RABBITMQ_DEFAULT_PASS') ?? 'guest',
    timeoutMs: timeout * 1000,
  };
}
