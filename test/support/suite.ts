// The frame every interop suite stands in, and the helpers they share. `interopSuite()`, called
// at the top of a test file, registers the file's hooks: before the tests it starts a Warren on
// a random port (with the file's own BrokerOptions if it needs other users or vhosts; in
// differential mode it takes the external broker instead: see broker.ts) and
// opens the suite's connection with a channel and a confirm channel on it; after them it deletes
// the queues made by queue(), closes every connection the suite opened and stops the broker.
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, GetMessage, Message, Options } from 'amqplib';
import { afterAll, beforeAll } from 'vitest';
import type { Broker, BrokerOptions } from '../../src/broker.js';
import { Clients, type OnConnectionError } from './amqp.js';
import { startBroker, uniqueName, type TestBroker } from './broker.js';

export { external, uniqueName } from './broker.js';

export interface InteropSuite {
  /** The broker's amqp:// URL, and its port. */
  readonly url: string;
  readonly port: number;
  /** The in-process Warren, for tests that look inside it; null in differential mode (they skip). */
  readonly warren: Broker | null;
  readonly clients: Clients;
  /** The suite's connection, and a channel (errors ignored) and a confirm channel on it. */
  readonly main: ChannelModel;
  readonly ch: Channel;
  readonly pub: ConfirmChannel;
  /** A new connection (`query`, e.g. `?heartbeat=0`, is appended to the URL), closed after the suite. */
  connect(query?: string): Promise<ChannelModel>;
  /** A fresh channel on `c` (the suite's connection unless given) whose errors are expected. */
  chan(c?: ChannelModel): Promise<Channel>;
  /** A new non-durable queue `prefix-<unique>` with `args`, declared on `ch`, deleted after the suite. */
  queue(prefix: string, args?: Record<string, unknown>): Promise<string>;
  /** Delete these queues (declared by the test itself) after the suite. */
  removeAfter(...queues: string[]): void;
  /** Publish each body to queue `q` on `pub`, then wait for the confirms. */
  send(q: string, bodies: string[], options?: Options.Publish): Promise<void>;
  /** Publish each body to `exchange` with `routingKey` on `pub`, then wait for the confirms. */
  publish(exchange: string, routingKey: string, bodies: string[], options?: Options.Publish): Promise<void>;
}

export interface SuiteOptions {
  /** What the suite's connections do with an 'error' event (see Clients); ignored by default. */
  onConnectionError?: OnConnectionError;
  /** How the in-process Warren is started (users, vhosts, ...); unused in differential mode. */
  broker?: BrokerOptions;
}

export function interopSuite(options: SuiteOptions = {}): InteropSuite {
  let broker: TestBroker | undefined;
  let main: ChannelModel;
  let ch: Channel;
  let pub: ConfirmChannel;
  const clients = new Clients(() => broker!.url, options.onConnectionError);
  const created: string[] = [];

  beforeAll(async () => {
    broker = await startBroker(options.broker);
    main = await clients.connect();
    ch = await clients.chan(main);
    pub = await main.createConfirmChannel();
  });
  afterAll(async () => {
    if (created.length > 0) {
      // On a connection of its own: the suite's may be gone.
      const c = await clients.chan(await clients.connect());
      for (const q of created.splice(0)) await c.deleteQueue(q).catch(() => {});
    }
    await clients.closeAll();
    await broker?.stop();
  });

  return {
    get url() { return broker!.url; },
    get port() { return broker!.port; },
    get warren() { return broker!.broker; },
    clients,
    get main() { return main; },
    get ch() { return ch; },
    get pub() { return pub; },
    connect: (query) => clients.connect(query),
    chan: (c = main) => clients.chan(c),
    async queue(prefix, args = {}) {
      const q = uniqueName(prefix);
      await ch.assertQueue(q, { durable: false, arguments: args });
      created.push(q);
      return q;
    },
    removeAfter: (...queues) => { created.push(...queues); },
    async send(q, bodies, publishOptions = {}) {
      for (const s of bodies) pub.sendToQueue(q, Buffer.from(s), publishOptions);
      await pub.waitForConfirms();
    },
    async publish(exchange, routingKey, bodies, publishOptions = {}) {
      for (const s of bodies) pub.publish(exchange, routingKey, Buffer.from(s), publishOptions);
      await pub.waitForConfirms();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const body = (m: Message): string => m.content.toString();
/** '0', '1', ... : `n` numbered bodies. */
export const numbered = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => String(from + i));

/** Retry until `check` holds: for what a broker does asynchronously (RabbitMQ does much that way). */
export async function eventually(
  check: () => boolean | Promise<boolean>, what: string, { timeoutMs = 5000, intervalMs = 20 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * basic.get until a message arrives (dead-lettering and expiry are asynchronous in RabbitMQ);
 * with `ack` it is left unacked for the caller to settle.
 */
export async function getOne(ch: Channel, q: string, ack = false, timeoutMs = 5000): Promise<GetMessage> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await ch.get(q, { noAck: !ack });
    if (m !== false) return m;
    if (Date.now() > deadline) throw new Error(`no message in ${q} after ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** The next `n` messages of `q` (no ack), waiting for each as getOne() does. */
export async function getN(ch: Channel, q: string, n: number, timeoutMs = 5000): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  while (out.length < n) out.push(await getOne(ch, q, false, timeoutMs));
  return out;
}

/** Everything in `q` now, in order, taken with basic.get (no ack). */
export async function takeAll(ch: Channel, q: string): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (let m = await ch.get(q, { noAck: true }); m !== false; m = await ch.get(q, { noAck: true })) out.push(m);
  return out;
}

/** The bodies of everything in `q` now, emptying it. */
export const drain = async (ch: Channel, q: string): Promise<string[]> => (await takeAll(ch, q)).map(body);

/** A message's x-death header: one entry per queue and reason, most recent first. */
export type XDeath = Record<string, unknown>;
export const xDeath = (m: Message): XDeath[] => (m.properties.headers?.['x-death'] ?? []) as unknown as XDeath[];

/** Called after every delivery to any Inbox (see waitTotal). */
const deliveryListeners = new Set<() => void>();

/** Collects deliveries for a consumer (pass `cb`); null (server-sent basic.cancel) resolves `cancelled`. */
export class Inbox {
  readonly msgs: ConsumeMessage[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  private onCancel!: () => void;
  readonly cancelled = new Promise<void>((r) => { this.onCancel = r; });
  readonly cb = (m: ConsumeMessage | null): void => {
    if (m === null) return this.onCancel();
    this.msgs.push(m);
    this.waiters = this.waiters.filter((w) => (this.msgs.length >= w.n ? (w.resolve(), false) : true));
    for (const l of deliveryListeners) l();
  };
  /** Resolves once `n` messages arrived; rejects after a few seconds so a miss fails fast. */
  async waitFor(n: number, timeoutMs = 5000): Promise<ConsumeMessage[]> {
    if (this.msgs.length < n) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${this.msgs.length} of ${n} messages: ${this.bodies}`)), timeoutMs);
        this.waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    }
    return this.msgs;
  }
  get bodies(): string[] { return this.msgs.map(body); }
  /** [body, redelivered] of each delivery. */
  get seen(): [string, boolean][] { return this.msgs.map((m) => [body(m), m.fields.redelivered]); }
}

/** Resolves once `total` messages arrived over all inboxes; rejects after a few seconds. */
export async function waitTotal(inboxes: Inbox[], total: number, timeoutMs = 5000): Promise<void> {
  const count = () => inboxes.reduce((s, i) => s + i.msgs.length, 0);
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (count() < total) return;
      clearTimeout(timer);
      deliveryListeners.delete(check);
      resolve();
    };
    const timer = setTimeout(() => {
      deliveryListeners.delete(check);
      reject(new Error(`got ${count()} of ${total} messages`));
    }, timeoutMs);
    deliveryListeners.add(check);
    check();
  });
}
