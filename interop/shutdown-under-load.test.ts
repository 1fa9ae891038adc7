// Graceful shutdown under load: 20 publishers with confirms and 3 consumers (manual acks) run
// against a warren process; SIGTERM; it exits 0 within 5 s; after a restart on the same data
// directory every confirmed persistent message is either still in its queue or was consumed.
import amqp, { type ChannelModel } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';
import { built, killAll, startWarren, tmpDataDir } from '../test/support/process.js';
import { sleep } from '../test/support/suite.js';

afterEach(killAll);

const PUBLISHERS = 20;
const CONSUMERS = 3;
const Q = 'shutdown-load';

describe.skipIf(external || !built)('SIGTERM under load', () => {
  it('exits within 5 s and every confirmed message survives or was consumed', async () => {
    const dir = tmpDataDir();
    const args = ['--port', '0', '--management-port', '0', '--data-dir', dir];
    const w = startWarren(args);
    const url = `amqp://guest:guest@127.0.0.1:${await w.listening}`;
    const conns: ChannelModel[] = [];
    const setup = await amqp.connect(url);
    await (await setup.createChannel()).assertQueue(Q, { durable: true });
    await setup.close();

    const confirmed = new Set<string>();
    const consumed = new Set<string>();
    let stop = false;
    const publishers = Array.from({ length: PUBLISHERS }, async (_, p) => {
      const c = await amqp.connect(url);
      conns.push(c);
      c.on('error', () => {});
      const ch = await c.createConfirmChannel();
      ch.on('error', () => {});
      let n = 0;
      let inFlight = 0;
      while (!stop) {
        if (inFlight >= 50) { await sleep(1); continue; }
        const id = `${p}-${n++}`;
        inFlight++;
        try {
          ch.sendToQueue(Q, Buffer.from(id), { persistent: true, messageId: id }, (err) => {
            inFlight--;
            if (!err) confirmed.add(id);
          });
        } catch { return; }
        if (n % 20 === 0) await new Promise((r) => setImmediate(r));
      }
    });
    for (let i = 0; i < CONSUMERS; i++) {
      const c = await amqp.connect(url);
      conns.push(c);
      c.on('error', () => {});
      const ch = await c.createChannel();
      ch.on('error', () => {});
      await ch.prefetch(100);
      await ch.consume(Q, (m) => {
        if (!m) return;
        consumed.add(String(m.properties.messageId));
        ch.ack(m);
      });
    }
    await sleep(2000);
    const before = confirmed.size;
    const t0 = Date.now();
    w.proc.kill('SIGTERM');
    const code = await w.exited;
    const took = Date.now() - t0;
    stop = true;
    await Promise.allSettled(publishers);
    console.log(`SIGTERM after ${before} confirmed (${confirmed.size} at exit), ${consumed.size} consumed; exited ${code} in ${took} ms`);
    expect(code).toBe(0);
    expect(took).toBeLessThan(5000);
    expect(confirmed.size).toBeGreaterThan(1000);

    const w2 = startWarren(args);
    const c2 = await amqp.connect(`amqp://guest:guest@127.0.0.1:${await w2.listening}`);
    const ch2 = await c2.createChannel();
    const left = new Set<string>();
    for (let m = await ch2.get(Q, { noAck: true }); m !== false; m = await ch2.get(Q, { noAck: true })) left.add(String(m.properties.messageId));
    const lost = [...confirmed].filter((id) => !left.has(id) && !consumed.has(id));
    console.log(`after restart: ${left.size} in the queue, lost ${lost.length}`);
    expect(lost).toEqual([]);
    await c2.close();
  }, 60_000);
});
