// connection.close-ok must reach a client that is still sending when it closes. A client that
// acks and then closes (amqplib does, at the end of most test suites) may have frames in flight
// after its connection.close. A broker that closes its socket as soon as close-ok is written
// makes its kernel answer those frames with a RST, and the RST can make the client's kernel
// drop the close-ok unread: amqplib's close() then never returns (seen in CI as a test timing
// out with an EPIPE). The broker sends FIN and reads on until the client closes its side.
//
// The client here is a raw socket that stops reading from the kernel (onread returning false)
// right after connection.open-ok, so close-ok waits in its receive buffer while more frames
// go out, exactly the window in which the RST used to arrive.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../test/support/broker.js';
import { sleep } from '../test/support/suite.js';
import { PROTOCOL_HEADER, cat, longstr, method, shortstr, table, u16, u32, u8 } from '../test/support/wire-fuzz.js';

let b: TestBroker;
beforeAll(async () => { b = await startBroker(); });
afterAll(async () => { await b.stop(); });

/** Index of the method frame (class, method) in the bytes received, or -1. */
function findMethod(data: Buffer, cls: number, mth: number): number {
  for (let at = 0; at + 11 <= data.length;) {
    const size = data.readUInt32BE(at + 3);
    if (data[at] === 1 && data.readUInt16BE(at + 7) === cls && data.readUInt16BE(at + 9) === mth) return at;
    at += 7 + size + 1;
  }
  return -1;
}

/** A raw connection that goes through the handshake step by step and stops reading after open-ok. */
function openConnection(port: number): Promise<{ s: net.Socket; received: () => Buffer; resumeReading: () => void; closed: Promise<void> }> {
  const chunks: Buffer[] = [];
  let step = 0; // 0: waiting for start, 1: for tune, 2: for open-ok, 3: open (not reading)
  let opened!: () => void;
  const openOk = new Promise<void>((r) => { opened = r; });
  const s = net.connect({
    port, host: '127.0.0.1',
    onread: {
      buffer: Buffer.alloc(64 * 1024),
      callback: (n, buf) => {
        chunks.push(Buffer.from(buf.subarray(0, n)));
        const data = Buffer.concat(chunks);
        // One step per reply, as RabbitMQ wants it (it does not read ahead of connection.tune).
        if (step === 0 && findMethod(data, 10, 10) >= 0) {
          step = 1;
          s.write(method(0, 10, 11, cat(table({ product: 'linger-test' }), shortstr('PLAIN'), longstr('\0guest\0guest'), shortstr('en_US'))));
        }
        if (step === 1 && findMethod(data, 10, 30) >= 0) {
          step = 2;
          s.write(cat(method(0, 10, 31, cat(u16(16), u32(131072), u16(0))), method(0, 10, 40, cat(shortstr('/'), shortstr(''), u8(0)))));
        }
        if (step === 2 && findMethod(data, 10, 41) >= 0) { step = 3; opened(); return false; }
        return true;
      },
    },
  });
  const closed = new Promise<void>((r) => s.on('close', () => r()));
  s.on('error', () => { /* a RST is what the test looks for; the bytes tell */ });
  s.on('connect', () => s.write(PROTOCOL_HEADER));
  return openOk.then(() => ({ s, received: () => Buffer.concat(chunks), resumeReading: () => s.resume(), closed }));
}

describe('connection.close while the client is still sending', () => {
  it('close-ok is still read by a client whose frames arrive after the broker answered', async () => {
    for (let round = 0; round < 5; round++) {
      const c = await openConnection(b.port);
      c.s.write(method(0, 10, 50, cat(u16(200), shortstr('bye'), u16(0), u16(0))));
      await sleep(100); // the broker has answered close-ok by now
      // Frames in flight after connection.close (heartbeats; a broker ignores them while closing).
      for (let i = 0; i < 5; i++) c.s.write(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]));
      await sleep(100);
      c.resumeReading();
      // Until the broker closes the socket, or close-ok has been read (RabbitMQ then waits for
      // the client to close; Warren closes its side after at most 3 s).
      let gone = false;
      void c.closed.then(() => { gone = true; });
      const sawCloseOk = (async () => { while (!gone && findMethod(c.received(), 10, 51) < 0) await sleep(10); })();
      await Promise.race([c.closed, sawCloseOk]);
      c.s.end();
      expect(findMethod(c.received(), 10, 51), `round ${round}: connection.close-ok never read`).toBeGreaterThan(0);
    }
  });
});
