// Warren's extension beside RabbitMQ's API: dead-letter replay (core/replay.ts).
//   POST /api/queues/V/Q/replay  {"count": N | "all", "to": "queue"?}  -> 200 the ReplayReport
//   GET  /api/queues/V/Q/replay  -> {"dead_letter_sources": [queues whose dead letters reach Q]}
// RabbitMQ answers both with 404 (no such route): clients can tell the two apart that way.
import { deadLetterSources, replayDeadLetters } from '../../core/replay.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { bodyObject, json, param, type Reply, type Req } from '../request.js';
import type { Router } from '../router.js';
import { vhostParam } from './common.js';

function target(req: Req, ctx: ManagementContext) {
  const v = vhostParam(req, ctx);
  const q = v.queues.get(param(req, 'name'));
  if (q === undefined) throw HttpError.notFound();
  return [v, q] as const;
}

async function replay(req: Req, ctx: ManagementContext): Promise<Reply> {
  const [v, q] = target(req, ctx);
  const body = bodyObject(req);
  const c = body.count ?? 1;
  if (c !== 'all' && !(typeof c === 'number' && Number.isInteger(c) && c >= 1)) {
    throw HttpError.badRequest('count must be a positive integer or "all"');
  }
  const to = body.to ?? null;
  if (to !== null && typeof to !== 'string') throw HttpError.badRequest('to must be a queue name');
  if (to !== null && !v.queues.has(to)) throw new HttpError(404, 'not_found', `no queue '${to}' in vhost '${v.name}'`);
  return json(await replayDeadLetters(v, q, { count: c, to }));
}

export function replayRoutes(r: Router): void {
  r.post('/api/queues/:vhost/:name/replay', replay);
  r.get('/api/queues/:vhost/:name/replay', (req, ctx) => {
    const [v, q] = target(req, ctx);
    return json({ dead_letter_sources: deadLetterSources(v, q) });
  });
}
