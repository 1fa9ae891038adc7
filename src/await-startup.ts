// `warren ctl await_startup`: wait until a broker on HOST:PORT answers the AMQP protocol header
// with connection.start, as `rabbitmqctl await_startup` does for RabbitMQ. Over AMQP rather
// than an HTTP API (there is none yet), so it works against any AMQP 0-9-1 broker, and a port
// that merely accepts TCP (a proxy, a half-started container) does not count as ready.
import net from 'node:net';

const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
const RETRY_MS = 100;
/** A frame header (7 bytes) and connection.start's class and method ids (4 bytes). */
const START_PREFIX = 11;

/** One attempt: resolves true on connection.start, false on anything else. */
function probe(host: string, port: number, timeoutMs: number, lastError: { message: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let got = Buffer.alloc(0);
    let finished = false;
    const done = (ok: boolean, why?: string) => {
      if (finished) return; // 'close' follows 'error' and our own destroy()
      finished = true;
      if (why !== undefined) lastError.message = why;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false, 'connected, but no connection.start arrived'), timeoutMs);
    socket.on('connect', () => socket.write(PROTOCOL_HEADER));
    socket.on('error', (err) => done(false, err.message));
    socket.on('close', () => done(false, 'connection closed before connection.start'));
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length < START_PREFIX) return;
      // type 1 (method) on channel 0, class 10 (connection) method 10 (start)
      const isStart = got[0] === 1 && got.readUInt16BE(1) === 0 && got.readUInt16BE(7) === 10 && got.readUInt16BE(9) === 10;
      done(isStart, isStart ? undefined : 'the server answered, but not with connection.start');
    });
  });
}

/** Resolves with the ms waited once connection.start arrives; rejects after timeoutMs. */
export async function awaitStartup(host: string, port: number, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const lastError = { message: 'no attempt finished' };
  for (;;) {
    const left = timeoutMs - (performance.now() - t0);
    if (await probe(host, port, Math.max(1, Math.min(left, 5000)), lastError)) return performance.now() - t0;
    if (performance.now() - t0 + RETRY_MS > timeoutMs) {
      throw new Error(`no AMQP broker answered on ${host}:${port} within ${(timeoutMs / 1000).toFixed(1)} s (last attempt: ${lastError.message})`);
    }
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}
