// The exchange type registry: every type Warren knows, by the name clients declare. Adding a
// type (x-consistent-hash, x-delayed-message, ...) is one file exporting an ExchangeTypeDef and
// one line in BUILT_IN below.
import type { ExchangeTypeDef } from './exchange.js';
import { consistentHashType } from './consistent-hash.js';
import { deduplicationType } from './deduplication.js';
import { delayedMessageType } from './delayed.js';
import { directType } from './direct.js';
import { fanoutType } from './fanout.js';
import { headersType } from './headers.js';
import { topicType } from './topic.js';

const BUILT_IN: readonly ExchangeTypeDef[] = [directType, fanoutType, topicType, headersType, consistentHashType, deduplicationType];

const registry = new Map<string, ExchangeTypeDef>(BUILT_IN.map((t) => [t.name, t]));
// x-delayed-message routes by another type's rules, looked up here (no import cycle).
const delayed = delayedMessageType((name) => registry.get(name));
registry.set(delayed.name, delayed);

/** The type declared as `name`, or undefined when Warren has no such type (503 at declare). */
export function exchangeType(name: string): ExchangeTypeDef | undefined {
  return registry.get(name);
}

export function isExchangeType(name: string): boolean {
  return registry.has(name);
}

/** Every exchange type's name, as the management API lists them. */
export function exchangeTypeNames(): string[] {
  return [...registry.keys()].sort();
}
