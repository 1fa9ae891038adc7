// A Connection over an in-memory Duplex pair instead of TCP: a raw-frame client does the
// handshake, declares a queue, publishes and gets the message back, and a hard error closes
// the connection with RabbitMQ's close frame. Nothing listens on a port.
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../src/amqp/connection.js';
import { FrameWriter } from '../src/amqp/frame-writer.js';
import { Broker } from '../src/broker.js';
import { createLogger } from '../src/log.js';
import { ByteReader } from '../src/protocol/byte-reader.js';
import { FrameParser } from '../src/protocol/frame-parser.js';
import { FRAME_BODY, FRAME_METHOD, M, decodeMethod, type AnyMethod, type MethodArgs } from '../src/protocol/generated/amqp.js';
import { duplexPair } from './support/duplex-pair.js';

interface Received { type: number; channel: number; method?: AnyMethod; body?: Buffer }

/** A client speaking raw frames over one side of the pair. */
class RawClient {
  readonly frames: Received[] = [];
  private readonly out = new FrameWriter();
  private waiters: (() => void)[] = [];
  constructor(private readonly side: Duplex) {
    const parser = new FrameParser({
      onFrame: (type, channel, buf, start, end) => {
        const f: Received = { type, channel };
        if (type === FRAME_METHOD) f.method = decodeMethod(new ByteReader().reset(buf, start, end));
        if (type === FRAME_BODY) f.body = Buffer.from(buf.subarray(start, end));
        this.frames.push(f);
        for (const w of this.waiters.splice(0)) w();
      },
    }, 0);
    side.on('data', (chunk: Buffer) => parser.push(chunk));
    this.out.frameMax = 4096;
  }
  raw(bytes: Buffer): void { this.side.write(bytes); }
  send<K extends keyof MethodArgs>(channel: number, id: K, args: MethodArgs[K]): void {
    this.out.method(channel, id, args);
    for (const p of this.out.take()) this.side.write(p);
  }
  publish(channel: number, queue: string, body: string): void {
    this.out.method(channel, M.BasicPublish, { exchange: '', routingKey: queue });
    this.out.content(channel, Buffer.from([0, 0]), Buffer.from(body));
    for (const p of this.out.take()) this.side.write(p);
  }
  /** The next method frame with this id (earlier frames are kept). */
  async expect(id: number): Promise<AnyMethod> {
    for (;;) {
      const f = this.frames.find((x) => x.method?.id === id);
      if (f) {
        this.frames.splice(this.frames.indexOf(f), 1);
        return f.method!;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

const brokers: Broker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.stop();
});

function connect(): RawClient {
  // The broker is never started: nothing listens and no store is opened.
  const broker = new Broker({ logger: createLogger('error', true), port: 0 });
  brokers.push(broker);
  const [server, client] = duplexPair();
  new Connection(server, broker, { remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 5672 });
  return new RawClient(client);
}

async function open(c: RawClient): Promise<void> {
  c.raw(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
  await c.expect(M.ConnectionStart);
  c.send(0, M.ConnectionStartOk, { clientProperties: {}, mechanism: 'PLAIN', response: '\0guest\0guest', locale: 'en_US' });
  const tune = await c.expect(M.ConnectionTune);
  expect(tune).toMatchObject({ channelMax: 2047, frameMax: 131072, heartbeat: 60 });
  c.send(0, M.ConnectionTuneOk, { channelMax: 10, frameMax: 4096, heartbeat: 0 });
  c.send(0, M.ConnectionOpen, { virtualHost: '/' });
  await c.expect(M.ConnectionOpenOk);
}

describe('Connection over an in-memory Duplex', () => {
  it('handshakes, declares, publishes and gets a message back', async () => {
    const c = connect();
    await open(c);
    c.send(1, M.ChannelOpen, {});
    await c.expect(M.ChannelOpenOk);
    c.send(1, M.QueueDeclare, { queue: 'mem' });
    expect(await c.expect(M.QueueDeclareOk)).toMatchObject({ queue: 'mem', messageCount: 0 });
    c.publish(1, 'mem', 'hello');
    c.send(1, M.BasicGet, { queue: 'mem', noAck: true });
    expect(await c.expect(M.BasicGetOk)).toMatchObject({ deliveryTag: 1, redelivered: false, routingKey: 'mem', messageCount: 0 });
    await new Promise((r) => setImmediate(r));
    expect(c.frames.find((f) => f.type === FRAME_BODY)?.body?.toString()).toBe('hello');
  });

  it('a hard error closes the connection with RabbitMQ\'s close frame', async () => {
    const c = connect();
    await open(c);
    c.send(1, M.ChannelOpen, {});
    await c.expect(M.ChannelOpenOk);
    c.send(1, M.ExchangeDeclare, { exchange: 'x', type: 'no-such-type' });
    expect(await c.expect(M.ConnectionClose)).toMatchObject({
      replyCode: 503, replyText: "COMMAND_INVALID - unknown exchange type 'no-such-type'", classId: 40, methodId: 10,
    });
  });
});
