// list_queues, list_exchanges, list_bindings, list_connections, list_channels, list_consumers:
// rabbitmqctl's columns (names, defaults, order given) read from the management API's objects.
// Process ids do not cross the HTTP API: `pid` columns hold the object's name instead (a
// connection's name is what close_connection takes).
import { seg } from './client.js';
import type { CommandSpec, Ctx } from './command.js';
import { writeRows, type Column, type Kind } from './format.js';

/** A column read from the field of the same name unless `get` says otherwise. */
const col = (name: string, kind: Kind = 'plain', get: Column['get'] = (o) => o[name]): Column => ({ name, kind, get });

function columns(names: string[], special: Column[]): Map<string, Column> {
  const m = new Map<string, Column>(names.map((n) => [n, col(n)]));
  for (const c of special) m.set(c.name, c);
  return m;
}

const QUEUE_COLUMNS = columns(
  ['auto_delete', 'consumer_capacity', 'consumer_utilisation', 'consumers', 'disk_reads', 'disk_writes', 'durable', 'exclusive',
    'exclusive_consumer_tag', 'head_message_timestamp', 'memory', 'message_bytes', 'message_bytes_persistent', 'message_bytes_ram',
    'message_bytes_ready', 'message_bytes_unacknowledged', 'messages', 'messages_persistent', 'messages_ram', 'messages_ready',
    'messages_ready_ram', 'messages_unacknowledged', 'messages_unacknowledged_ram', 'name', 'policy', 'state', 'type'],
  [
    col('arguments', 'table'),
    col('exclusive_consumer_pid', 'plain', () => ''),
    col('leader', 'plain', (o) => o.node),
    col('members', 'plain', (o) => (o.node === undefined ? [] : [o.node])),
    col('online', 'plain', (o) => (o.node === undefined ? [] : [o.node])),
    col('owner_pid', 'plain', (o) => o.owner_pid_details?.name ?? ''),
    col('pid', 'plain', (o) => o.name),
    col('slave_pids', 'plain', () => ''),
    col('synchronised_slave_pids', 'plain', () => ''),
  ],
);

const EXCHANGE_COLUMNS = columns(['auto_delete', 'durable', 'internal', 'name', 'policy', 'type'], [col('arguments', 'table')]);

const BINDING_COLUMNS = columns([], [
  col('arguments', 'table'),
  col('destination_kind', 'plain', (o) => o.destination_type),
  col('destination_name', 'plain', (o) => o.destination),
  col('routing_key'),
  col('source_kind', 'plain', () => 'exchange'),
  col('source_name', 'plain', (o) => o.source),
]);

const CONNECTION_COLUMNS = columns(
  ['auth_mechanism', 'channel_max', 'channels', 'connected_at', 'frame_max', 'host', 'name', 'peer_cert_issuer', 'peer_cert_subject',
    'peer_cert_validity', 'peer_host', 'peer_port', 'port', 'recv_cnt', 'recv_oct', 'send_cnt', 'send_oct', 'send_pend', 'ssl',
    'ssl_cipher', 'ssl_hash', 'ssl_key_exchange', 'ssl_protocol', 'state', 'timeout', 'user', 'vhost'],
  [col('client_properties', 'table'), col('pid', 'plain', (o) => o.name), col('protocol', 'protocol')],
);

const CHANNEL_COLUMNS = columns(
  ['acks_uncommitted', 'confirm', 'consumer_count', 'global_prefetch_count', 'messages_unacknowledged', 'messages_uncommitted',
    'messages_unconfirmed', 'name', 'number', 'prefetch_count', 'transactional', 'user', 'vhost'],
  [col('connection', 'plain', (o) => o.connection_details?.name), col('pid', 'plain', (o) => o.name)],
);

const CONSUMER_COLUMNS = columns(['ack_required', 'active', 'activity_status', 'consumer_tag', 'prefetch_count'], [
  col('arguments', 'table'),
  col('channel_pid', 'plain', (o) => o.channel_details?.name),
  col('queue_name', 'plain', (o) => o.queue?.name),
]);

/** Positional column names (also "a,b"), checked against the command's; none = the defaults. */
export function pickColumns(ctx: Ctx, known: Map<string, Column>, defaults: string[]): Column[] {
  const asked = ctx.args.flatMap((a) => a.split(',')).map((a) => a.trim()).filter((a) => a !== '');
  const names = asked.length > 0 ? asked : defaults;
  const bad = names.filter((n) => !known.has(n));
  if (bad.length > 0) throw ctx.usage(`Info key(s) ${bad.join(',')} are not supported`);
  return names.map((n) => known.get(n)!);
}

interface ListDef {
  name: string;
  known: Map<string, Column>;
  defaults: string[];
  /** The API path to read; per vhost when `perVhost`. */
  path(vhost: string): string;
  perVhost: boolean;
  info(ctx: Ctx): string[];
  /** Extra options rabbitmqctl's command takes (accepted, no effect on a single node). */
  options?: CommandSpec['options'];
}

const LISTS: ListDef[] = [
  {
    name: 'list_queues', known: QUEUE_COLUMNS, defaults: ['name', 'messages'], perVhost: true, path: (v) => `/api/queues/${seg(v)}`,
    info: (c) => [`Timeout: ${c.timeoutS.toFixed(1)} seconds ...`, `Listing queues for vhost ${c.vhost} ...`], options: ['online', 'offline', 'local'],
  },
  { name: 'list_exchanges', known: EXCHANGE_COLUMNS, defaults: ['name', 'type'], perVhost: true, path: (v) => `/api/exchanges/${seg(v)}`, info: (c) => [`Listing exchanges for vhost ${c.vhost} ...`] },
  {
    name: 'list_bindings', known: BINDING_COLUMNS, perVhost: true, path: (v) => `/api/bindings/${seg(v)}`, info: (c) => [`Listing bindings for vhost ${c.vhost}...`],
    defaults: ['source_name', 'source_kind', 'destination_name', 'destination_kind', 'routing_key', 'arguments'],
  },
  { name: 'list_connections', known: CONNECTION_COLUMNS, defaults: ['user', 'peer_host', 'peer_port', 'state'], perVhost: false, path: () => '/api/connections', info: () => ['Listing connections ...'] },
  { name: 'list_channels', known: CHANNEL_COLUMNS, defaults: ['pid', 'user', 'consumer_count', 'messages_unacknowledged'], perVhost: false, path: () => '/api/channels', info: () => ['Listing channels ...'] },
  {
    name: 'list_consumers', known: CONSUMER_COLUMNS, perVhost: true, path: (v) => `/api/consumers/${seg(v)}`, info: (c) => [`Listing consumers in vhost ${c.vhost} ...`],
    defaults: ['queue_name', 'channel_pid', 'consumer_tag', 'ack_required', 'prefetch_count', 'active', 'arguments'],
  },
];

function listCommand(d: ListDef): CommandSpec {
  const names = [...d.known.keys()].sort().join(', ');
  return {
    name: d.name,
    usage: `${d.name}${d.perVhost ? ' [--vhost <vhost>]' : ''} [--no-table-headers] [<column> ...]`,
    description: `columns: ${names} (default: ${d.defaults.join(' ')})`,
    min: 0,
    max: Infinity,
    options: [...(d.perVhost ? (['vhost'] as const) : []), 'no-table-headers', ...(d.options ?? [])],
    async run(ctx) {
      const cols = pickColumns(ctx, d.known, d.defaults);
      const r = await ctx.client.request('GET', d.path(ctx.vhost));
      // A vhost that does not exist lists nothing, as rabbitmqctl does.
      if (r.status === 404 && d.perVhost) return writeRows(ctx.io, ctx.out, d.info(ctx), cols, []);
      if (r.status !== 200) throw ctx.client.failed(r);
      writeRows(ctx.io, ctx.out, d.info(ctx), cols, r.body as unknown[]);
    },
  };
}

export const listCommands: CommandSpec[] = LISTS.map(listCommand);
