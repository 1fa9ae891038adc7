#!/usr/bin/env node
// CLI entry point: `warren --port 5672 --host 127.0.0.1 --data-dir ./data --log-level info`,
// or `warren --config rabbitmq.conf`. A configuration that cannot be used exits with code 2.
import { parseConfig } from './config.js';
import { Broker } from './broker.js';

async function main(): Promise<void> {
  let config;
  const warnings: string[] = [];
  try {
    config = parseConfig(process.argv.slice(2), process.env, (w) => warnings.push(w));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  if ('help' in config) {
    console.log(config.help);
    return;
  }
  const broker = new Broker(config);
  for (const w of warnings) broker.log.warn(w);
  // Handlers go in before listening, so a signal right after the startup line is honoured.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    broker.log.info(`received ${signal}, closing connections`);
    broker.stop(`broker shutdown (${signal})`).then(
      () => process.exit(0),
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

void main();
