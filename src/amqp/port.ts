// The narrow port a channel (channel.ts, session.ts, methods-*.ts, confirms.ts,
// direct-reply-to.ts) talks to its connection through. Channel-side code sees this, never the
// Connection class: what it may write, whether it may write, who it acts for, and the few
// broker services it uses.
import type { BrokerConfig } from '../config.js';
import type { Actor } from '../core/actor.js';
import type { ResourceAlarms } from '../resource-alarms.js';
import type { VHost } from '../core/vhost.js';
import type { AnyMethod } from '../protocol/generated/amqp.js';
import type { Channel } from './channel.js';
import type { ReplyRegistry } from './direct-reply-to.js';
import type { FrameWriter } from './frame-writer.js';
import type { ReadGate } from './read-gate.js';

/** What channels use of the broker. */
export interface ChannelServices {
  /** Largest message body accepted (406 above it). */
  readonly maxMessageSize: number;
  /** Direct reply-to addresses of every channel with a reply consumer. */
  readonly replies: ReplyRegistry;
  /** Memory and disk alarms: while any is in effect, publishing connections are blocked. */
  readonly alarms: ResourceAlarms;
  /** consumer_timeout and how often channels check it (RabbitMQ's channel_tick_interval). */
  readonly config: Pick<BrokerConfig, 'consumerTimeout' | 'channelTickIntervalMs'>;
}

/** Work to do just before a turn's frames go out (coalesced publisher confirms). */
export interface BeforeFlush {
  beforeFlush(): void;
}

export interface ChannelPort {
  /** This turn's outgoing frames; call scheduleFlush() after appending. */
  readonly out: FrameWriter;
  send(channel: number, id: Parameters<FrameWriter['method']>[1], args: Parameters<FrameWriter['method']>[2] & object): void;
  scheduleFlush(): void;
  /** Run `h` once just before the next flush (at most once per call). */
  beforeNextFlush(h: BeforeFlush): void;
  /** The connection is open (handshake done, not closing): frames may be written. */
  readonly running: boolean;
  /** Whether the socket is read, and why not (backpressure, flow control, alarms). */
  readonly gate: ReadGate;
  /** Client capabilities (consumer_cancel_notify, connection.blocked, ...) as announced. */
  readonly capabilities: Readonly<Record<string, unknown>>;
  /** Who the connection acts for; set once connection.open succeeded (channels exist only then). */
  readonly actor: Actor;
  readonly vhost: VHost;
  readonly services: ChannelServices;
  /** Called when a blocked socket drains: consumers on this connection may resume. */
  readonly drainListeners: Set<() => void>;
  /** Decode a method frame's payload (errors as RabbitMQ's frame errors). */
  decode(buf: Buffer, start: number, end: number): AnyMethod;
  /** The channel finished the close handshake we started; its number is free. */
  channelClosed(channel: number): void;
  /** The client closed the channel; close-ok goes out after the current socket read. */
  channelClosedByClient(channel: Channel): void;
  /** It published while a resource alarm is on: stop reading it (and say so if it asked). */
  blockForAlarm(): void;
  /** Run timer work for this connection; a failure drops the connection, not the broker. */
  guard(work: () => void): void;
}
