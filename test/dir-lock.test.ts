// The data-directory lock as a supervisor meets it: the `warren` command restarted on the same
// --data-dir after a SIGKILL, over stale lock files, next to a live holder; and two brokers in
// one process. The lock itself is src/store/lock.ts; refusing a live holder is in
// interop/cli.test.ts (command) and test/store.test.ts (the full message).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { external, startBroker } from './support/broker.js';
import { built, killAll, startWarren, tmpDataDir } from './support/process.js';

afterEach(killAll);

describe.skipIf(external || !built)('data directory lock', () => {
  it('starts at once on a directory whose holder was SIGKILLed, again and again', async () => {
    const dataDir = tmpDataDir();
    for (let i = 0; i < 3; i++) {
      const w = startWarren(['--port', '0', '--data-dir', dataDir]);
      await w.listening;
      w.proc.kill('SIGKILL');
      expect(await w.exited).toBe(null); // killed: no shutdown ran, warren.lock names the dead pid
    }
    const t0 = Date.now();
    const last = startWarren(['--port', '0', '--data-dir', dataDir]);
    await last.listening;
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('is not blocked by a stale warren.lock naming a live unrelated process', async () => {
    for (const pid of [1, process.pid, process.ppid]) {
      const dataDir = tmpDataDir();
      writeFileSync(join(dataDir, 'warren.lock'), `${pid}\n`);
      const w = startWarren(['--port', '0', '--data-dir', dataDir]);
      await w.listening;
      w.proc.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    }
  });

  it('refuses a second Broker in the same process on the same directory', async () => {
    const dataDir = tmpDataDir();
    const first = await startBroker({ dataDir });
    try {
      await expect(startBroker({ dataDir })).rejects.toThrow(
        `data directory ${dataDir} is in use by this process (pid ${process.pid}`,
      );
      // The refused one released nothing of the first's: a process outside still cannot start.
      const outside = startWarren(['--port', '0', '--data-dir', dataDir]);
      expect(await outside.exited).toBe(1);
      expect(outside.output()).toContain(`is in use by another process (pid ${process.pid}`);
    } finally {
      await first.stop();
    }
    const again = await startBroker({ dataDir }); // and it is free once the first stopped
    await again.stop();
  });
});
