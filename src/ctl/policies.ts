// set_policy, clear_policy, list_policies and their operator-policy twins over /api/policies and
// /api/operator-policies, with rabbitmqctl 3.10's lines, texts and exit codes: a definition
// that is not JSON or that the broker refuses is 69 (rabbitmqctl reports rabbit_policy's
// refusal as an error of the node), a vhost that does not exist 65, nothing to clear 69
// "Parameter does not exist", a priority that is not an integer 64.
import { CtlError, EXIT } from './args.js';
import { seg } from './client.js';
import type { CommandSpec, Ctx } from './command.js';
import { writeInfo, writeRows, type Column } from './format.js';
import { noVhost, vhostExists } from './access.js';

interface PolicyFamily {
  /** The commands' suffix: set_policy, set_operator_policy, ... */
  suffix: string;
  /** The API collection. */
  path: string;
  /** How rabbitmqctl names one in its lines. */
  setting: string;
  clearing: string;
  listing: string;
  /** rabbit_mgmt_wm_policy escapes its refusal for HTML; the operator-policy resource does not. */
  escaped: boolean;
}

const FAMILIES: PolicyFamily[] = [
  { suffix: 'policy', path: '/api/policies', setting: 'policy', clearing: 'policy', listing: 'policies', escaped: true },
  {
    suffix: 'operator_policy', path: '/api/operator-policies', setting: 'operator policy override', clearing: 'operator policy',
    listing: 'operator policy overrides', escaped: false,
  },
];

/** A JSON value with object keys sorted, as rabbitmqctl writes a definition (an Erlang map). */
function sortedJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** --priority: an integer (`+3` and `-2` too, as Elixir's OptionParser takes them), 0 unless given. */
function priorityOf(ctx: Ctx): number {
  const p = ctx.values.priority;
  if (p === undefined) return 0;
  if (typeof p !== 'string' || !/^[+-]?\d+$/.test(p)) throw ctx.usage(`Invalid options for this command:\n--priority : ${typeof p === 'string' ? p : ''}`);
  return Number(p);
}

/** A JSON argument (a policy definition, vhost limits), decoded as rabbitmqctl does before it asks the node anything. */
export function definitionOf(text: string): Record<string, unknown> {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch {
    throw new CtlError(EXIT.unavailable, 'Error:\nJSON decoding error. Reason: badarg');
  }
  // rabbitmqctl crashes on a JSON value that is not an object (a badmap in rabbit_policy).
  if (d === null || typeof d !== 'object' || Array.isArray(d)) throw new CtlError(EXIT.unavailable, `Error:\nthe definition must be a JSON object, got ${text.trim()}`);
  return d as Record<string, unknown>;
}

const unescapeHtml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/**
 * PUT of a policy or runtime parameter: a missing vhost is 65, a refusal 69 with the broker's
 * text (unescaped when the API escapes it for HTML), as rabbitmqctl reports them.
 */
export async function putParameter(ctx: Ctx, path: string, body: unknown, escaped: boolean): Promise<void> {
  const r = await ctx.client.request('PUT', path, body);
  if (r.status === 404) {
    if (!(await vhostExists(ctx.client, ctx.vhost))) throw noVhost(ctx.vhost);
    throw ctx.client.notOffered('PUT', path, 404);
  }
  if (r.status === 400 && typeof r.body?.reason === 'string') {
    throw new CtlError(EXIT.unavailable, `Error:\n${escaped ? unescapeHtml(r.body.reason) : r.body.reason}`);
  }
  if (r.status !== 201 && r.status !== 204) throw ctx.client.failed(r);
}

/** GET of a vhost's list: a missing vhost is 65 after the `info` lines, as rabbitmqctl prints them. */
export async function getInVhost(ctx: Ctx, path: string, info: string[]): Promise<unknown> {
  const r = await ctx.client.request('GET', path);
  if (r.status === 404) {
    if (await vhostExists(ctx.client, ctx.vhost)) throw ctx.client.notOffered('GET', path, 404);
    writeInfo(ctx.io, ctx.out, info);
    throw noVhost(ctx.vhost);
  }
  if (r.status !== 200) throw ctx.client.failed(r);
  return r.body;
}

/** DELETE of a policy or runtime parameter: none there (or no vhost) is rabbitmqctl's 69. */
export async function deleteParameter(ctx: Ctx, collection: string, path: string): Promise<void> {
  const r = await ctx.client.request('DELETE', path);
  if (r.status === 404) {
    await ctx.client.checkOffered(collection, 'DELETE', path);
    throw new CtlError(EXIT.unavailable, 'Error:\nParameter does not exist');
  }
  if (r.status !== 204 && r.status !== 200) throw ctx.client.failed(r);
}

function setCommand(f: PolicyFamily): CommandSpec {
  return {
    name: `set_${f.suffix}`,
    usage: `set_${f.suffix} [--vhost <vhost>] [--priority <priority>] [--apply-to <apply-to>] <name> <pattern> <definition>`,
    description: `sets or updates ${f.suffix === 'policy' ? 'a policy' : 'an operator policy'} (apply-to: queues, exchanges or all; the definition is a JSON object)`,
    min: 3,
    max: 3,
    options: ['vhost', 'priority', 'apply-to'],
    async run(ctx) {
      const [name, pattern, text] = ctx.args as [string, string, string];
      const priority = priorityOf(ctx);
      writeInfo(ctx.io, ctx.out, [`Setting ${f.setting} "${name}" for pattern "${pattern}" to "${text}" with priority "${priority}" for vhost "${ctx.vhost}" ...`]);
      const definition = definitionOf(text);
      const applyTo = typeof ctx.values['apply-to'] === 'string' ? ctx.values['apply-to'] : 'all';
      await putParameter(ctx, `${f.path}/${seg(ctx.vhost)}/${seg(name)}`, { pattern, definition, priority, 'apply-to': applyTo }, f.escaped);
    },
  };
}

function clearCommand(f: PolicyFamily): CommandSpec {
  return {
    name: `clear_${f.suffix}`,
    usage: `clear_${f.suffix} [--vhost <vhost>] <name>`,
    description: `clears ${f.suffix === 'policy' ? 'a policy' : 'an operator policy'}`,
    min: 1,
    max: 1,
    options: ['vhost'],
    async run(ctx) {
      const name = ctx.args[0]!;
      writeInfo(ctx.io, ctx.out, [`Clearing ${f.clearing} "${name}" on vhost "${ctx.vhost}" ...`]);
      // No such policy and no such vhost are the same to rabbitmqctl.
      await deleteParameter(ctx, f.path, `${f.path}/${seg(ctx.vhost)}/${seg(name)}`);
    },
  };
}

const COLUMNS: Column[] = [
  ...['vhost', 'name', 'pattern', 'apply-to'].map((n): Column => ({ name: n, kind: 'plain', get: (o) => o[n] })),
  { name: 'definition', kind: 'plain', get: (o) => sortedJson(o.definition) },
  { name: 'priority', kind: 'plain', get: (o) => o.priority },
];

function listCommand(f: PolicyFamily): CommandSpec {
  return {
    name: `list_${f.suffix === 'policy' ? 'policies' : 'operator_policies'}`,
    usage: `list_${f.suffix === 'policy' ? 'policies' : 'operator_policies'} [--vhost <vhost>] [--no-table-headers]`,
    description: `lists the ${f.listing} of a vhost (vhost, name, pattern, apply-to, definition, priority)`,
    min: 0,
    max: 0,
    options: ['vhost', 'no-table-headers'],
    async run(ctx) {
      const info = [`Listing ${f.listing} for vhost "${ctx.vhost}" ...`];
      const body = await getInVhost(ctx, `${f.path}/${seg(ctx.vhost)}`, info);
      // rabbit_policy:list sorts by priority, lowest first (Array.prototype.sort is stable).
      const rows = (body as { priority: number }[]).slice().sort((a, b) => a.priority - b.priority);
      writeRows(ctx.io, ctx.out, info, COLUMNS, rows);
    },
  };
}

export const policyCommands: CommandSpec[] = FAMILIES.flatMap((f) => [setCommand(f), clearCommand(f), listCommand(f)]);
