// purge_queue, delete_queue and close_connection, with rabbitmqctl 3.10's lines, errors and
// exit codes (a queue that is not there: 69 for purge, 64 for delete, as rabbitmqctl).
import { CtlError, EXIT } from './args.js';
import { seg } from './client.js';
import type { CommandSpec } from './command.js';
import { writeInfo } from './format.js';

const purgeQueue: CommandSpec = {
  name: 'purge_queue',
  usage: 'purge_queue [--vhost <vhost>] <queue>',
  description: 'removes every ready message from a queue',
  min: 1,
  max: 1,
  options: ['vhost'],
  async run({ client, io, out, vhost, args }) {
    const q = args[0]!;
    writeInfo(io, out, [`Purging queue '${q}' in vhost '${vhost}' ...`]);
    const r = await client.request('DELETE', `/api/queues/${seg(vhost)}/${seg(q)}/contents`);
    if (r.status === 404) throw new CtlError(EXIT.unavailable, 'Error:\nnot_found');
    if (r.status !== 204 && r.status !== 200) throw client.failed(r);
  },
};

const deleteQueue: CommandSpec = {
  name: 'delete_queue',
  usage: 'delete_queue [--vhost <vhost>] <queue> [--if-empty|-e] [--if-unused|-u]',
  description: 'deletes a queue, and says how many ready messages went with it',
  min: 1,
  max: 1,
  options: ['vhost', 'if-empty', 'if-unused'],
  async run({ client, io, out, vhost, args, values }) {
    const q = args[0]!;
    const ifs = [values['if-empty'] === true ? 'if queue is empty' : '', values['if-unused'] === true ? 'if queue is unused' : ''].filter((s) => s !== '');
    writeInfo(io, out, [`Deleting queue '${q}' on vhost '${vhost}' ${ifs.length > 0 ? `${ifs.join(' and ')} ` : ''}...`]);
    const path = `/api/queues/${seg(vhost)}/${seg(q)}`;
    const before = await client.request('GET', path);
    if (before.status === 404) throw new CtlError(EXIT.usage, 'Error:\nQueue not found');
    if (before.status !== 200) throw client.failed(before);
    const query = new URLSearchParams();
    if (values['if-empty'] === true) query.set('if-empty', 'true');
    if (values['if-unused'] === true) query.set('if-unused', 'true');
    const r = await client.request('DELETE', `${path}${query.size > 0 ? `?${query}` : ''}`);
    if (r.status === 404) throw new CtlError(EXIT.usage, 'Error:\nQueue not found');
    if (r.status === 400) {
      const reason = String(r.body?.reason ?? '');
      throw new CtlError(EXIT.usage, `Error:\n${/not empty/.test(reason) ? 'Queue is not empty' : /in use|unused/.test(reason) ? 'Queue is in use' : reason}`);
    }
    if (r.status !== 204 && r.status !== 200) throw client.failed(r);
    writeInfo(io, out, [`Queue was successfully deleted with ${Number(before.body?.messages_ready ?? 0)} ready messages`]);
  },
};

const closeConnection: CommandSpec = {
  name: 'close_connection',
  usage: 'close_connection <connection name> <explanation>',
  description: 'closes a connection (named as list_connections name shows it) with 320 CONNECTION_FORCED and the explanation',
  min: 2,
  max: 2,
  async run({ client, io, out, args }) {
    const [name, reason] = args as [string, string];
    writeInfo(io, out, [`Closing connection ${name}, reason: ${reason}...`]);
    const r = await client.request('DELETE', `/api/connections/${seg(name)}`, undefined, { 'x-reason': reason });
    if (r.status === 404) throw new CtlError(EXIT.unavailable, `Error:\nno connection named '${name}' (see list_connections name)`);
    if (r.status !== 204 && r.status !== 200) throw client.failed(r);
  },
};

/**
 * Warren's dead-letter replay (POST /api/queues/V/Q/replay; RabbitMQ has no such command):
 * republish up to --count messages (default all) to where they died, or to --to, at least once.
 */
const replayDeadLetters: CommandSpec = {
  name: 'replay_dead_letters',
  usage: 'replay_dead_letters [--vhost <vhost>] <queue> [--count <n>] [--to <queue>]',
  description: 'republishes dead-lettered messages to where they died from (or to --to), each acked only once stored',
  min: 1,
  max: 1,
  options: ['vhost', 'count', 'to'],
  async run({ client, io, out, vhost, args, values }) {
    const q = args[0]!;
    const countText = typeof values.count === 'string' ? values.count : 'all';
    const count = countText === 'all' ? 'all' : Number(countText);
    if (count !== 'all' && (!Number.isInteger(count) || count < 1)) throw new CtlError(EXIT.usage, `Error:\n--count must be a positive integer or all, got '${countText}'`);
    writeInfo(io, out, [`Replaying ${count === 'all' ? 'all' : count} dead-lettered messages of queue '${q}' in vhost '${vhost}' ...`]);
    const body: Record<string, unknown> = { count };
    if (typeof values.to === 'string') body.to = values.to;
    const r = await client.request('POST', `/api/queues/${seg(vhost)}/${seg(q)}/replay`, body);
    if (r.status === 404) throw new CtlError(EXIT.unavailable, 'Error:\nnot_found');
    if (r.status !== 200) throw client.failed(r);
    const report = r.body as { replayed: number; remaining: number; skipped: Record<string, number> };
    const skipped = Object.entries(report.skipped).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`);
    writeInfo(io, out, [`Replayed ${report.replayed} messages; ${report.remaining} left in the queue${skipped.length > 0 ? ` (skipped: ${skipped.join(', ')})` : ''}`]);
  },
};

export const queueCommands: CommandSpec[] = [purgeQueue, deleteQueue, closeConnection, replayDeadLetters];
