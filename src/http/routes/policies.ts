// /api/policies and /api/operator-policies (all, per vhost, one by name): GET, PUT
// {pattern, definition, priority, apply-to}, DELETE, over core's registry (the same operation
// definitions import uses), with rabbitmq_management 3.10's shapes, codes and texts.
import type { Policy, PolicyKind } from '../../core/policy.js';
import { PolicyError } from '../../core/policy-validate.js';
import type { Level } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { bodyObject, created, json, noContent, param, type Reply, type Req } from '../request.js';
import type { Router } from '../router.js';
import { vhostForCreate, vhostParam, vhostsOf } from './common.js';

/** A policy as the API (and a definitions export) shows it. */
export function policyView(p: Policy): Record<string, unknown> {
  return { vhost: p.vhost, name: p.name, pattern: p.pattern, 'apply-to': p.applyTo, definition: p.definition, priority: p.priority };
}

/** rabbit_mgmt_util's bad_request for a refused policy; the policy endpoint escapes it for HTML, the operator one does not. */
function refusal(kind: PolicyKind, e: PolicyError): HttpError {
  const text = kind === 'policy' ? e.detail.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : e.detail;
  return HttpError.badRequest(`Validation failed\n\n${text}\n`);
}

function routes(kind: PolicyKind, base: string, level: Level, r: Router): void {
  const list = (req: Req, ctx: ManagementContext): Reply => json(vhostsOf(req, ctx).flatMap((v) => v.policies.list(kind).map(policyView)));
  const one = (req: Req, ctx: ManagementContext): Policy => {
    const p = vhostParam(req, ctx).policies.get(kind, param(req, 'name'));
    if (p === undefined) throw HttpError.notFound();
    return p;
  };
  const put = (req: Req, ctx: ManagementContext): Reply => {
    const v = vhostForCreate(req, ctx);
    const name = param(req, 'name');
    const body = bodyObject(req);
    for (const k of ['pattern', 'definition']) if (body[k] === undefined) throw HttpError.badRequest(`[{key_missing,${k}}]`);
    let result: { created: boolean; ignored: string[] };
    try {
      result = ctx.registry.setPolicy(kind, v.name, name, { pattern: body.pattern, definition: body.definition, priority: body.priority, applyTo: body['apply-to'] });
    } catch (e) {
      if (e instanceof PolicyError) throw refusal(kind, e);
      throw e;
    }
    if (result.ignored.length > 0) {
      ctx.log.warn('policy keys kept but not acted on by Warren', { vhost: v.name, policy: name, kind, ignored: result.ignored });
    }
    return result.created ? created() : noContent();
  };
  const del = (req: Req, ctx: ManagementContext): Reply => {
    const v = vhostParam(req, ctx);
    if (!ctx.registry.clearPolicy(kind, v.name, param(req, 'name'))) throw HttpError.notFound();
    return noContent();
  };
  r.get(base, list, level);
  r.get(`${base}/:vhost`, list, level);
  r.get(`${base}/:vhost/:name`, (req, ctx) => json(policyView(one(req, ctx))), level);
  r.put(`${base}/:vhost/:name`, put, level);
  r.delete(`${base}/:vhost/:name`, del, level);
}

export function policyRoutes(r: Router): void {
  routes('policy', '/api/policies', 'policymaker', r);
  routes('operator', '/api/operator-policies', 'administrator', r);
}
