// `warren ctl <command>`: rabbitmqctl's everyday subcommands against a running broker's
// management API (await_startup, which speaks AMQP, stays in ../await-startup.ts). Loaded by
// main.ts only for these commands, never on the broker's start path. runCtl() resolves with
// the exit code; output goes through an Io so tests can run it in process.
import { accessCommands } from './access.js';
import { CtlError, EXIT, GENERAL, OPTIONS, parseCtlArgs, targetOf, type OptionName } from './args.js';
import { Client } from './client.js';
import type { CommandSpec, Ctx } from './command.js';
import { definitionCommands } from './definitions.js';
import { bold, type Io } from './format.js';
import { listCommands } from './list.js';
import { policyCommands } from './policies.js';
import { queueCommands } from './queues.js';
import { statusCommand } from './status.js';
import { vhostLimitCommands } from './vhost-limits.js';

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  [statusCommand, ...listCommands, ...queueCommands, ...accessCommands, ...policyCommands, ...vhostLimitCommands, ...definitionCommands].map((c) => [c.name, c]),
);

const GENERAL_USAGE = 'warren ctl [--host <host>] [--management-port <port>] [--username <user>] [--password <password>] [--quiet] [--formatter json]';

function overallUsage(): string {
  const names = ['await_startup [--host <host>] [--port <amqp port>] [--timeout <seconds>]', ...[...COMMANDS.values()].map((c) => c.usage)];
  return `${bold('Usage')}

${GENERAL_USAGE} <command> [<command options>]

The management API is at --host (WARREN_MANAGEMENT_HOST, WARREN_HOST; default 127.0.0.1) and
--management-port (WARREN_MANAGEMENT_PORT; default 15672), logged in as --username / --password
(WARREN_USERNAME / WARREN_PASSWORD, then RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS;
default guest / guest). -p / --vhost names the vhost, as in rabbitmqctl (default /).
-q / --quiet leaves out informational lines, --no-table-headers the header row,
--formatter json writes JSON, -t / --timeout N limits each request to N seconds (default 60).

Available commands:

${names.map((n) => `   ${n}`).join('\n')}
`;
}

function commandUsage(spec: CommandSpec): string {
  return `${bold('Usage')}\n\n${GENERAL_USAGE} ${spec.usage}\n\n${spec.description}\n`;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  async stdin() {
    if (process.stdin.isTTY) return '';
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

function argumentError(argv: string[], spec: CommandSpec, message: string, code: number = EXIT.usage): CtlError {
  return new CtlError(code, `Error (argument validation): ${message}\nArguments given:\n\t${argv.join(' ')}\n\n${commandUsage(spec)}`);
}

export async function runCtl(argv: string[], env: NodeJS.ProcessEnv, io: Io = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseCtlArgs(argv);
  } catch (err) {
    io.err(`Error (argument validation): ${(err as Error).message}\n\n${overallUsage()}`);
    return EXIT.usage;
  }
  const { command, positionals, values, unknown } = parsed;
  if (command === undefined || command === 'help') {
    const spec = command === 'help' ? COMMANDS.get(positionals[0] ?? '') : undefined;
    io.out(spec ? commandUsage(spec) : overallUsage());
    return EXIT.ok;
  }
  const spec = COMMANDS.get(command);
  if (spec === undefined) {
    io.err(`\nCommand '${command}' not found. \n\n${overallUsage()}`);
    return EXIT.usage;
  }
  if (values.help === true) {
    io.out(commandUsage(spec));
    return EXIT.ok;
  }
  try {
    const allowed = new Set([...GENERAL, ...(spec.options ?? [])]);
    const invalid = [...unknown, ...Object.keys(values).filter((k) => k in OPTIONS && !allowed.has(k as OptionName)).map((k) => `--${k}`)];
    if (invalid.length > 0) throw argumentError(argv, spec, `Invalid options for this command:\n${invalid.map((o) => `${o} : `).join('\n')}`);
    if (positionals.length < spec.min) throw argumentError(argv, spec, 'not enough arguments.');
    if (positionals.length > spec.max) throw argumentError(argv, spec, 'too many arguments.');
    const formatter = typeof values.formatter === 'string' ? values.formatter : 'table';
    if (formatter !== 'table' && formatter !== 'json') throw argumentError(argv, spec, `formatter ${formatter} is not supported (table or json)`);
    const target = targetOf(values, env);
    const ctx: Ctx = {
      client: new Client(target),
      io,
      out: { quiet: values.quiet === true || values.silent === true, json: formatter === 'json', headers: values['no-table-headers'] !== true },
      vhost: typeof values.vhost === 'string' ? values.vhost : (env.WARREN_VHOST || '/'),
      args: positionals,
      values,
      timeoutS: target.timeoutMs / 1000,
      usage: (message, code) => argumentError(argv, spec, message, code),
    };
    return (await spec.run(ctx)) ?? EXIT.ok;
  } catch (err) {
    if (!(err instanceof CtlError)) throw err;
    io.err(`${err.message}\n`);
    return err.code;
  }
}
