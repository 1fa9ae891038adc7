#!/usr/bin/env node
// CLI entry point: `warren --port 5672 --host 127.0.0.1 --data-dir ./data --log-level info`,
// or `warren --config rabbitmq.conf`, `warren ctl await_startup` for scripts that wait for
// a broker, and `warren ctl <command>` (list_queues, ...: src/ctl/). A configuration that cannot
// be used exits with code 2.
import { parseConfig, parseCtl, type CliConfig } from './config.js';

/** Bad flags: the message (with usage) on stderr and exit 2, as before. */
function usageError(err: unknown): never {
  console.error((err as Error).message);
  process.exit(2);
}

async function ctl(argv: string[]): Promise<void> {
  // Every command but await_startup talks to the management API (src/ctl/).
  const { ctlCommand } = await import('./ctl/args.js');
  if (ctlCommand(argv) !== 'await_startup') {
    const { runCtl } = await import('./ctl/index.js');
    process.exitCode = await runCtl(argv, process.env);
    return;
  }
  let parsed;
  try {
    parsed = parseCtl(argv, process.env);
  } catch (err) {
    usageError(err);
  }
  if ('help' in parsed) {
    console.log(parsed.help);
    return;
  }
  // Only node:net: waiting for a broker must not pay for loading one.
  const { awaitStartup } = await import('./await-startup.js');
  const { host, port, timeoutMs } = parsed.config;
  try {
    const ms = await awaitStartup(host, port, timeoutMs);
    console.log(`broker at ${host}:${port} is up (connection.start after ${ms.toFixed(0)} ms)`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}

async function serve(argv: string[]): Promise<void> {
  let config: CliConfig | { help: string };
  const warnings: string[] = [];
  try {
    config = parseConfig(argv, process.env, (w) => warnings.push(w));
  } catch (err) {
    usageError(err);
  }
  if ('help' in config) {
    console.log(config.help);
    return;
  }
  // Loaded here, not at the top, so `--help` and `ctl` stay instant.
  const { Broker, logEphemeral, makeEphemeralDir, removeEphemeralDir } = await import('./index.js');
  const { ephemeral, ...brokerConfig } = config;
  // The directory is removed by stop() below, or by index.ts's exit hook on every other way
  // out (a failed start, an uncaught exception).
  const dataDir = ephemeral ? makeEphemeralDir() : config.dataDir;
  const broker = new Broker({ ...brokerConfig, dataDir });
  for (const w of warnings) broker.log.warn(w);
  if (ephemeral) logEphemeral(broker.log, dataDir);
  // Handlers go in before listening, so a signal right after the startup line is honoured.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    broker.log.info(`received ${signal}, closing connections`);
    broker.stop(`broker shutdown (${signal})`).then(
      () => {
        if (ephemeral) removeEphemeralDir(dataDir);
        process.exit(0);
      },
      (err) => { broker.log.error('error while stopping', { error: String(err) }); process.exit(1); },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    await broker.start();
  } catch (err) {
    broker.log.error(`Warren cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
}

const argv = process.argv.slice(2);
void (argv[0] === 'ctl' ? ctl(argv.slice(1)) : serve(argv));
