// Vhost limits over the management API, as rabbitmq_management 3.10 has them (checked against
// 3.10.8): /api/vhost-limits[/V] lists them and PUT / DELETE /api/vhost-limits/V/NAME {value}
// set or clear one (administrator, 204 either way); /api/parameters/vhost-limits/V/limits is the
// same runtime parameter whole (policymaker: PUT 201 new / 204 updated, DELETE 404 when there is
// none), which is how rabbitmqctl's set_vhost_limits replaces all of them at once. Warren has no
// other runtime parameters, so the other components list nothing and refuse a PUT as RabbitMQ
// refuses a component it does not know.
import { LimitError, type LimitEntries } from '../../core/vhost-limits.js';
import type { VHost } from '../../core/vhost.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { bodyObject, created, json, noContent, param, type Reply, type Req } from '../request.js';
import type { Router } from '../router.js';
import { hasLevel } from '../auth.js';
import { vhostForCreate, vhostParam, visibleVhosts } from './common.js';

const COMPONENT = 'vhost-limits';

/** The limits as a JSON object in their order; an empty parameter is [] (an empty Erlang proplist). */
function limitsValue(e: LimitEntries): Record<string, number> | [] {
  return e.length === 0 ? [] : Object.fromEntries(e);
}

/** As in a definitions export and /api/parameters. */
export function limitsParameter(v: VHost): Record<string, unknown> | null {
  const e = v.limits.value;
  return e === null ? null : { value: limitsValue(e), vhost: v.name, component: COMPONENT, name: 'limits' };
}

function refusal(e: unknown, escape: boolean): never {
  if (!(e instanceof LimitError)) throw e;
  // rabbit_mgmt_wm_parameter escapes its refusal for HTML; rabbit_mgmt_wm_limit does not.
  const text = escape ? e.detail.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : e.detail;
  throw HttpError.badRequest(`Validation failed\n\n${text}\n`);
}

function valueOf(req: Req): unknown {
  const body = bodyObject(req);
  if (body.value === undefined) throw HttpError.badRequest('[{key_missing,value}]');
  return body.value;
}

function limitRoutes(r: Router): void {
  // All vhosts list an emptied parameter ([]); one vhost's list leaves it out.
  r.get('/api/vhost-limits', (req, ctx) => json(visibleVhosts(req, ctx).flatMap((v) => {
    const e = v.limits.value;
    return e === null ? [] : [{ vhost: v.name, value: limitsValue(e) }];
  })), 'management');
  r.get('/api/vhost-limits/:vhost', (req, ctx) => {
    const v = vhostParam(req, ctx);
    const e = v.limits.value;
    return json(e === null || e.length === 0 ? [] : [{ vhost: v.name, value: limitsValue(e) }]);
  }, 'management');
  r.put('/api/vhost-limits/:vhost/:name', (req, ctx) => {
    const v = vhostForCreate(req, ctx);
    const value = valueOf(req);
    try {
      v.limits.set(param(req, 'name'), value);
    } catch (e) {
      refusal(e, false);
    }
    return noContent();
  }, 'administrator');
  r.delete('/api/vhost-limits/:vhost/:name', (req, ctx) => {
    vhostParam(req, ctx).limits.clear(param(req, 'name'));
    return noContent();
  }, 'administrator');
}

/**
 * rabbit_mgmt_wm_parameter(s): one refusal, "User not authorised to access object", for a user who
 * is no policymaker and for a vhost the user has no permissions in.
 */
function policymakerIn(req: Req, ctx: ManagementContext): void {
  const v = req.params.vhost === undefined ? undefined : ctx.vhosts.get(req.params.vhost);
  if (!hasLevel(req.user, 'policymaker') || (v !== undefined && !ctx.registry.permissions.canOpen(req.user.name, v.name) && !hasLevel(req.user, 'monitoring'))) {
    throw HttpError.notAuthorised('User not authorised to access object');
  }
}

function parameterRoutes(r: Router): void {
  const list = (req: Req, ctx: ManagementContext): Reply => {
    policymakerIn(req, ctx);
    const component = req.params.component;
    if (component !== undefined && component !== COMPONENT) return json([]);
    const vhosts = req.params.vhost !== undefined ? [vhostParam(req, ctx)] : visibleVhosts(req, ctx);
    return json(vhosts.map(limitsParameter).filter((p) => p !== null));
  };
  /** The vhost of a vhost-limits parameter named `limits` (the only name rabbit_vhost_limit uses). */
  const target = (req: Req, ctx: ManagementContext, create: boolean): VHost => {
    policymakerIn(req, ctx);
    const component = param(req, 'component');
    if (component !== COMPONENT) {
      if (create) throw HttpError.badRequest(`Validation failed\n\ncomponent ${component} not found\n`);
      throw HttpError.notFound();
    }
    const v = create ? vhostForCreate(req, ctx) : vhostParam(req, ctx);
    if (param(req, 'name') !== 'limits') {
      if (create) throw HttpError.badRequest(`Validation failed\n\n${COMPONENT} parameters are named 'limits'\n`);
      throw HttpError.notFound();
    }
    return v;
  };
  r.get('/api/parameters', list, 'management');
  r.get('/api/parameters/:component', list, 'management');
  r.get('/api/parameters/:component/:vhost', list, 'management');
  r.get('/api/parameters/:component/:vhost/:name', (req, ctx) => {
    const p = limitsParameter(target(req, ctx, false));
    if (p === null) throw HttpError.notFound();
    return json(p);
  }, 'management');
  r.put('/api/parameters/:component/:vhost/:name', (req, ctx) => {
    const v = target(req, ctx, true);
    const value = valueOf(req);
    try {
      return v.limits.setAll(value) ? created() : noContent();
    } catch (e) {
      return refusal(e, true);
    }
  }, 'management');
  r.delete('/api/parameters/:component/:vhost/:name', (req, ctx) => {
    if (!target(req, ctx, false).limits.clearAll()) throw HttpError.notFound();
    return noContent();
  }, 'management');
}

export function vhostLimitRoutes(r: Router): void {
  limitRoutes(r);
  parameterRoutes(r);
}
