// Start a Warren broker on a random loopback port for one test file, and stop it afterwards.
import { Broker, type BrokerOptions } from '../../src/broker.js';
import { createLogger } from '../../src/log.js';

export interface TestBroker {
  broker: Broker;
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  const logger = createLogger(process.env.WARREN_TEST_LOG ? 'debug' : 'error', !process.env.WARREN_TEST_LOG);
  const broker = new Broker({ port: 0, host: '127.0.0.1', logger, ...options });
  const address = await broker.start();
  return {
    broker,
    port: address.port,
    url: `amqp://guest:guest@127.0.0.1:${address.port}`,
    stop: () => broker.stop(),
  };
}
