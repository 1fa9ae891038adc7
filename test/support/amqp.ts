// Shared helpers for interop suites: amqplib connections that are closed after the file, fresh
// channels for error cases, matchers for amqplib's rendering of close frames, the closes a test
// provokes as the server sends them, and raw methods for what amqplib has no API for.
import amqp, { type Channel, type ChannelModel, type Message } from 'amqplib';

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

  /** A new connection; `query` (e.g. `?frameMax=4096`) is appended to the URL. */
  async connect(query = ''): Promise<ChannelModel> {
    const c = await amqp.connect(`${this.url()}${query}`);
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

/** A channel or connection error as amqplib raises it: the reply code is on the error. */
export type AmqpError = Error & { code?: number };

/**
 * Resolves with the error the server closed `ch` with (attach before provoking it), or with an
 * error without a code if the channel closed otherwise.
 */
export function serverClose(ch: Channel): Promise<AmqpError> {
  return new Promise((resolve) => {
    ch.once('error', resolve);
    ch.once('close', () => resolve(new Error('channel closed without an error')));
  });
}

const CONNECTION_CLOSE = (10 << 16) | 50;
export type CloseFields = { replyCode: number; replyText: string; classId: number; methodId: number };
/** Resolves with the connection.close the server sends on `c` (read off amqplib's frame loop). */
export function serverConnectionClose(c: ChannelModel): Promise<CloseFields> {
  const conn = c.connection as unknown as { accept(f: { channel: number; id: number; fields: unknown }): void };
  const accept = conn.accept;
  c.on('error', () => {}); // expected here
  return new Promise((resolve) => {
    conn.accept = function (this: unknown, f) {
      if (f.channel === 0 && f.id === CONNECTION_CLOSE) resolve(f.fields as CloseFields);
      return accept.call(this, f);
    };
  });
}

/** The fields of a basic.return (amqplib types them as a delivery's). */
export type ReturnFields = { replyCode: number; replyText: string; exchange: string; routingKey: string };
export const returned = (m: Message): ReturnFields => m.fields as unknown as ReturnFields;
