// Topic exchange: a trie over the dot-separated words of binding keys, as RabbitMQ 3.x's
// rabbit_exchange_type_topic. `*` matches exactly one word, `#` zero or more words.
//
// Word splitting follows RabbitMQ 3.x's split_topic_key exactly: the empty key "" is ZERO words
// (so `#` and the binding key "" match it, but `*` does not), while any other key is split on
// every dot, keeping empty words ("a." is ["a", ""], "." is ["", ""]). Verified against
// RabbitMQ 3.10.8. (RabbitMQ 4.x splits "" into one empty word; Warren follows 3.x.)
//
// Matching walks the trie with the routing key's words. A `#` node can swallow any number of
// words, so naive backtracking is exponential for keys like "#.#.#.a" against many words. The
// trick: a `#` node entered at word position i is then tried at every position k >= i, so per
// publish each `#` node only needs to remember the smallest i it was entered at; re-entering at
// a larger i adds nothing. That bounds the work by (trie nodes x words) and allocates nothing.
import type { FieldTable } from '../../protocol/field-table.js';
import type { Binding, Destination, ExchangeTypeDef, Router } from './exchange.js';

class TrieNode {
  readonly children = new Map<string, TrieNode>();
  readonly bindings = new Set<Binding>();
  /** route() call in which `hashFrom` was last set; a stale epoch means "not entered yet". */
  epoch = 0;
  /** Smallest word position this `#` node has been entered at during route() call `epoch`. */
  hashFrom = 0;
  constructor(readonly parent: TrieNode | null, readonly word: string) {}
}

const NO_WORDS: string[] = [];
const NO_OUT: Destination[] = [];

/** RabbitMQ 3.x split_topic_key: "" is no words at all, otherwise split on every dot. */
export function topicWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

export class TopicRouter implements Router {
  private readonly root = new TrieNode(null, '');
  private epoch = 0;
  // Per-call state of route(), kept on the instance so the recursion takes two arguments.
  private words: string[] = NO_WORDS;
  private out: Destination[] = NO_OUT;

  add(b: Binding): void {
    let node = this.root;
    for (const w of topicWords(b.routingKey)) {
      let next = node.children.get(w);
      if (!next) node.children.set(w, (next = new TrieNode(node, w)));
      node = next;
    }
    node.bindings.add(b);
  }

  remove(b: Binding): void {
    let node: TrieNode | undefined = this.root;
    for (const w of topicWords(b.routingKey)) {
      node = node.children.get(w);
      if (!node) return; // never bound: nothing to do, as RabbitMQ
    }
    if (!node.bindings.delete(b)) return;
    // Prune nodes left with neither bindings nor children, bottom-up (remove_path_if_empty).
    while (node.parent && node.bindings.size === 0 && node.children.size === 0) {
      node.parent.children.delete(node.word);
      node = node.parent;
    }
  }

  /** Trie nodes below the root: lets tests check that remove() prunes. */
  nodeCount(): number {
    let n = 0;
    const walk = (node: TrieNode): void => {
      for (const c of node.children.values()) { n++; walk(c); }
    };
    walk(this.root);
    return n;
  }

  route(routingKey: string, _headers: FieldTable | undefined, out: Destination[]): void {
    this.words = topicWords(routingKey);
    this.out = out;
    this.epoch++; // invalidates every node's hashFrom at once (a float counter never wraps in practice)
    this.match(this.root, 0);
    // Drop the references so a router does not keep the last message's arrays alive.
    this.words = NO_WORDS;
    this.out = NO_OUT;
  }

  /** Bindings reachable from `node` with words[i..] still to consume. */
  private match(node: TrieNode, i: number): void {
    const words = this.words;
    if (i === words.length) {
      for (const b of node.bindings) this.out.push(b.destination);
    } else {
      const w = words[i];
      // A literal "*" or "#" word in the routing key reaches the same child as the wildcard
      // lookups below (the `#` path also consumes exactly one word), so skip it: no duplicates.
      if (w !== '*' && w !== '#') {
        const exact = node.children.get(w!);
        if (exact) this.match(exact, i + 1);
      }
      const star = node.children.get('*');
      if (star) this.match(star, i + 1);
    }
    const hash = node.children.get('#');
    if (hash) this.enterHash(hash, i);
  }

  /** `hash` swallows words[i..k-1] for every k >= i, then matching continues from it at k. */
  private enterHash(hash: TrieNode, i: number): void {
    // Positions >= `until` were already tried from this node during this route() call.
    const until = hash.epoch === this.epoch ? hash.hashFrom : this.words.length + 1;
    if (i >= until) return;
    hash.epoch = this.epoch;
    hash.hashFrom = i;
    for (let k = i; k < until; k++) this.match(hash, k);
  }
}

export const topicType: ExchangeTypeDef = { name: 'topic', routesBy: 'key', createRouter: () => new TopicRouter() };
