// A connection's channels by number, and RabbitMQ's timing for a client-side close: the rest
// of the socket read that carried channel.close still reaches the (now closed) channel, and
// only after that read does close-ok go out and the number become free again (rabbit_reader
// hands the bytes it has already read to the closing channel process before it learns the
// channel is gone).
import { Channel } from './channel.js';
import type { ChannelPort } from './port.js';

export class ChannelTable {
  readonly byId = new Map<number, Channel>();
  /** Channels the client closed during the current socket read. */
  private readonly closedByClient: Channel[] = [];

  /** The channel for a frame, made on its first frame (channel.open is checked by it). */
  forFrame(id: number, port: ChannelPort): Channel {
    let ch = this.byId.get(id);
    if (!ch) {
      ch = new Channel(port, id);
      this.byId.set(id, ch);
    }
    return ch;
  }

  get(id: number): Channel | undefined {
    return this.byId.get(id);
  }

  /** We closed it and the client answered close-ok: the number is free. */
  delete(id: number): void {
    this.byId.delete(id);
  }

  clientClosed(ch: Channel): void {
    this.closedByClient.push(ch);
  }

  get hasClientCloses(): boolean {
    return this.closedByClient.length > 0;
  }

  /** After the socket read: forget the channels the client closed; `closeOk` answers each. */
  finishClientCloses(closeOk: (id: number) => void): void {
    for (const ch of this.closedByClient.splice(0)) {
      if (this.byId.get(ch.id) !== ch) continue;
      this.byId.delete(ch.id);
      closeOk(ch.id);
    }
  }

  /** The connection is going: every channel gives back what it holds (consumers, unacked). */
  releaseAll(): void {
    for (const ch of this.byId.values()) ch.release();
    this.byId.clear();
    this.closedByClient.length = 0;
  }
}
