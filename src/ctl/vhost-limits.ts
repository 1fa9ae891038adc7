// set_vhost_limits, clear_vhost_limits and list_vhost_limits, with rabbitmqctl 3.10's lines,
// texts and exit codes. set and clear go through the whole `vhost-limits` runtime parameter
// (/api/parameters/vhost-limits/V/limits), as rabbitmqctl replaces or removes all of a vhost's
// limits at once; list reads /api/vhost-limits, in the order the broker keeps them.
import { seg } from './client.js';
import type { CommandSpec } from './command.js';
import { writeInfo, writeRows, type Column } from './format.js';
import { definitionOf, deleteParameter, getInVhost, putParameter } from './policies.js';

const PARAMETERS = '/api/parameters';
const parameterPath = (vhost: string) => `${PARAMETERS}/vhost-limits/${seg(vhost)}/limits`;

/** Limits as rabbitmqctl prints them: JSON, an emptied parameter ([] from the API) as {}. */
const limitsText = (v: unknown) => JSON.stringify(Array.isArray(v) ? {} : v);

const setVhostLimits: CommandSpec = {
  name: 'set_vhost_limits',
  usage: 'set_vhost_limits [--vhost <vhost>] <definition>',
  description: 'replaces a vhost\'s limits: a JSON object of max-connections and max-queues (a negative value is no limit, 0 allows none)',
  min: 1,
  max: 1,
  options: ['vhost'],
  async run(ctx) {
    const text = ctx.args[0]!;
    writeInfo(ctx.io, ctx.out, [`Setting vhost limits to "${text}" for vhost "${ctx.vhost}" ...`]);
    const value = definitionOf(text);
    // rabbit_mgmt_wm_parameter escapes its refusals for HTML.
    await putParameter(ctx, parameterPath(ctx.vhost), { vhost: ctx.vhost, component: 'vhost-limits', name: 'limits', value }, true);
  },
};

const clearVhostLimits: CommandSpec = {
  name: 'clear_vhost_limits',
  usage: 'clear_vhost_limits [--vhost <vhost>]',
  description: 'clears all of a vhost\'s limits',
  min: 0,
  max: 0,
  options: ['vhost'],
  async run(ctx) {
    writeInfo(ctx.io, ctx.out, [`Clearing vhost "${ctx.vhost}" limits ...`]);
    await deleteParameter(ctx, PARAMETERS, parameterPath(ctx.vhost));
  },
};

const GLOBAL_COLUMNS: Column[] = [
  { name: 'vhost', kind: 'plain', get: (o) => o.vhost },
  { name: 'limits', kind: 'plain', get: (o) => limitsText(o.value) },
];

const listVhostLimits: CommandSpec = {
  name: 'list_vhost_limits',
  usage: 'list_vhost_limits [--vhost <vhost>] [--global] [--no-table-headers]',
  description: 'shows a vhost\'s limits as JSON, or with --global every vhost\'s (vhost, limits)',
  min: 0,
  max: 0,
  options: ['vhost', 'global', 'no-table-headers'],
  async run(ctx) {
    if (ctx.values.global === true) {
      const all = await ctx.client.get('/api/vhost-limits');
      writeRows(ctx.io, ctx.out, ['Listing limits for all vhosts ...'], GLOBAL_COLUMNS, all as unknown[]);
      return;
    }
    const info = [`Listing limits for vhost "${ctx.vhost}" ...`];
    const [one] = (await getInVhost(ctx, `/api/vhost-limits/${seg(ctx.vhost)}`, info)) as { value: unknown }[];
    if (ctx.out.json) {
      // rabbitmqctl's JSON for this command is its node's reply ([] when there are no limits).
      if (one === undefined) ctx.io.out('[]\n');
      else ctx.io.out(`${JSON.stringify({ node: (await ctx.client.get('/api/overview')).node, result: 'ok', value: limitsText(one.value) })}\n`);
      return;
    }
    writeInfo(ctx.io, ctx.out, info);
    ctx.io.out(`${one === undefined ? '' : limitsText(one.value)}\n`);
  },
};

export const vhostLimitCommands: CommandSpec[] = [setVhostLimits, clearVhostLimits, listVhostLimits];
