// Start a Warren broker on a random loopback port for one test file, and stop it afterwards.
//
// Differential mode: with WARREN_EXTERNAL_URL=amqp://guest:guest@127.0.0.1:5701 the interop
// suites run against that broker (e.g. a RabbitMQ) instead; `broker` is then null and tests
// that look inside Warren skip themselves (`it.skipIf(external)`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, type BrokerOptions } from '../../src/broker.js';
import { createLogger } from '../../src/log.js';

export interface TestBroker {
  /** The in-process Warren, or null in differential mode. */
  broker: Broker | null;
  port: number;
  url: string;
  stop(): Promise<void>;
}

export const externalUrl = process.env.WARREN_EXTERNAL_URL;
export const external = externalUrl !== undefined && externalUrl !== '';

export async function startBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  if (external) {
    const u = new URL(externalUrl!);
    return { broker: null, port: Number(u.port || 5672), url: externalUrl!.replace(/\/$/, ''), stop: async () => {} };
  }
  const logger = createLogger(process.env.WARREN_TEST_LOG ? 'debug' : 'error', !process.env.WARREN_TEST_LOG);
  // A fresh store per broker unless the test names one (restart tests reuse theirs).
  const ownDir = options.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'warren-test-')) : null;
  // No management listener unless the test asks for one (ANY_FREE_PORT): 15672 is one port.
  const broker = new Broker({ port: 0, host: '127.0.0.1', managementPort: 0, logger, ...options, dataDir: options.dataDir ?? ownDir! });
  const address = await broker.start();
  return {
    broker,
    port: address.port,
    url: `amqp://guest:guest@127.0.0.1:${address.port}`,
    stop: async () => {
      await broker.stop();
      if (ownDir !== null) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}

/** A name unique to this run, so suites can share an external broker without collisions. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
