// Shared helpers for interop suites: amqplib connections that are closed after the file, fresh
// channels for error cases, matchers for amqplib's rendering of close frames, and raw methods for
// what amqplib has no API for.
import amqp, { type Channel, type ChannelModel } from 'amqplib';

/**
 * What a suite's connections do with an 'error' event: call this function (the default ignores
 * it: the tests that provoke connection errors assert on the close itself), or, with null, have
 * no listener, so that an unexpected connection error fails the run.
 */
export type OnConnectionError = ((err: Error) => void) | null;

/** Connections opened by a suite, all closed by closeAll() in its afterAll. */
export class Clients {
  private readonly conns: ChannelModel[] = [];
  constructor(private readonly url: () => string, private readonly onError: OnConnectionError = () => {}) {}

  async connect(): Promise<ChannelModel> {
    const c = await amqp.connect(this.url());
    if (this.onError !== null) c.on('error', this.onError);
    this.conns.push(c);
    return c;
  }

  /** A fresh channel whose errors are expected (a channel error closes only that channel). */
  async chan(c: ChannelModel): Promise<Channel> {
    const ch = await c.createChannel();
    ch.on('error', () => {});
    return ch;
  }

  async closeAll(): Promise<void> {
    for (const c of this.conns.splice(0)) await c.close().catch(() => {});
  }
}

const CODE_NAMES: Record<number, string> = {
  320: 'CONNECTION-FORCED', 403: 'ACCESS-REFUSED', 404: 'NOT-FOUND', 405: 'RESOURCE-LOCKED',
  406: 'PRECONDITION-FAILED', 501: 'FRAME-ERROR', 502: 'SYNTAX-ERROR', 503: 'COMMAND-INVALID',
  504: 'CHANNEL-ERROR', 505: 'UNEXPECTED-FRAME', 530: 'NOT-ALLOWED', 540: 'NOT-IMPLEMENTED',
  541: 'INTERNAL-ERROR',
};
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** amqplib's rendering of a close frame, matched in full: `406 (PRECONDITION-FAILED) with message "..."`. */
export const amqpError = (code: number, text: string): RegExp =>
  new RegExp(`${code} \\(${CODE_NAMES[code]}\\) with message "${escapeRe(text)}"$`);

/** The error a channel is closed with (for methods with no reply, the close is the only answer). */
export const channelError = (ch: Channel): Promise<Error> => new Promise((resolve) => ch.once('error', resolve));
/** The error a connection is closed with (hard errors). */
export const connectionError = (c: ChannelModel): Promise<Error> => new Promise((resolve) => c.once('error', resolve));

/** RabbitMQ's text for a queue exclusive to another connection (405). */
export const resourceLocked = (q: string): string =>
  `RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${q}' in vhost '/'. It could be originally ` +
  'declared on another connection or the exclusive property value does not match that of the original declaration.';

// Methods amqplib has no API for (or sends only with fixed fields), by id: class << 16 | method,
// as in amqplib's lib/defs.js (not exported by the package).
type RawChannel = {
  rpc(method: number, fields: object, expect: number): Promise<unknown>;
  sendImmediately(method: number, fields: object): void;
};
/** Send `method` on `ch` and wait for `expect`; rejects if the server closes the channel instead. */
export const rpc = (ch: Channel, method: number, fields: object, expect: number): Promise<unknown> =>
  (ch as unknown as RawChannel).rpc(method, fields, expect);
/** Send `method` on `ch`, expecting no reply. */
export const sendRaw = (ch: Channel, method: number, fields: object): void =>
  (ch as unknown as RawChannel).sendImmediately(method, fields);
