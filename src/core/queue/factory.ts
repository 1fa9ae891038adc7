// Queue types by x-queue-type. A queue.declare's arguments are validated first (arguments.ts
// refuses the types Warren does not have, with RabbitMQ's text); this picks the implementation
// of the queue interface for them. A new queue type is one implementation and one row here.
import type { FieldTable } from '../../protocol/field-table.js';
import { ClassicQueue } from './classic.js';
import { StreamQueue } from './stream/stream-queue.js';
import type { MessageQueue, QueueOptions } from './types.js';

type QueueConstructor = (name: string, options: QueueOptions) => MessageQueue;

const QUEUE_TYPES: Record<string, QueueConstructor> = {
  classic: (name, options) => new ClassicQueue(name, options),
  stream: (name, options) => new StreamQueue(name, options),
};

/** The x-queue-type a declare asks for ('classic' when absent). */
export function queueTypeOf(args: FieldTable): string {
  const v = Object.hasOwn(args, 'x-queue-type') ? args['x-queue-type'] : undefined;
  if (v === undefined || v.type !== 'S') return 'classic';
  return typeof v.value === 'string' ? v.value : v.value.toString('utf8');
}

export function createQueue(name: string, options: QueueOptions): MessageQueue {
  const make = QUEUE_TYPES[queueTypeOf(options.args)];
  // Declare validation refuses other types first; reaching here with one is a bug.
  if (make === undefined) throw new Error(`no queue type '${queueTypeOf(options.args)}' for queue '${name}'`);
  return make(name, options);
}
