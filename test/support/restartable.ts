// For suites that restart or kill their broker (not interopSuite(), whose broker lives for the
// whole file): one in-process Warren at a time, restarted on a data dir the test names, its
// connections closed and it stopped after every test, with every child process killAll() knows.
import { afterEach } from 'vitest';
import { Clients } from './amqp.js';
import { startBroker, type TestBroker } from './broker.js';
import { killAll } from './process.js';

export interface Restartable {
  readonly clients: Clients;
  /** The running broker (null before the first restart() and after stop()). */
  broker: TestBroker | null;
  /** Close the clients, stop the broker if one runs, start one on `dir`. */
  restart(dir: string): Promise<void>;
  /** Close the clients and stop the broker. */
  stop(): Promise<void>;
}

export function restartable(): Restartable {
  const r: Restartable = {
    broker: null,
    clients: new Clients(() => r.broker!.url),
    async restart(dir) {
      await r.stop();
      r.broker = await startBroker({ dataDir: dir });
    },
    async stop() {
      await r.clients.closeAll();
      await r.broker?.stop();
      r.broker = null;
    },
  };
  afterEach(async () => {
    await r.stop();
    killAll();
  });
  return r;
}
