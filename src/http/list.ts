// What every list endpoint of the management API does with its query string, as RabbitMQ's
// rabbit_mgmt_util: `sort` (a field, dotted for nested ones) and `sort_reverse` order, `page`
// and `page_size` paginate (then the reply is a page object with counts) and only then does
// `name` (substring, or a regex with use_regex=true) filter, as in RabbitMQ 3.10, where a list
// without `page` ignores it; `columns` keeps only the named (dotted) fields.
import { HttpError } from './errors.js';
import { json, type Reply, type Req } from './request.js';

type Item = Record<string, unknown>;

const MAX_PAGE_SIZE = 500;
const DEFAULT_PAGE_SIZE = 100;

export function listReply(req: Req, items: Item[]): Reply {
  const q = req.query;
  const total = items.length;
  let out = items;
  const sort = q.get('sort');
  if (sort !== null && sort !== '') out = sortBy(out, sort, q.get('sort_reverse') === 'true');
  const columns = q.get('columns');
  const page = q.get('page');
  if (page === null) return json(columns ? out.map((i) => pick(i, columns)) : out);
  out = filterByName(out, q.get('name'), q.get('use_regex') === 'true');
  const pageSize = q.get('page_size');
  const p = Number(page);
  const size = pageSize === null ? DEFAULT_PAGE_SIZE : Number(pageSize);
  if (!Number.isInteger(p) || p < 1 || !Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new HttpError(400, 'invalid_pagination_parameters',
      `Invalid pagination parameters: page number ${page}, page size ${pageSize ?? 'undefined'}`);
  }
  const pageCount = Math.max(1, Math.ceil(out.length / size));
  const slice = out.slice((p - 1) * size, p * size);
  return json({
    filtered_count: out.length,
    item_count: slice.length,
    items: columns ? slice.map((i) => pick(i, columns)) : slice,
    page: p,
    page_count: pageCount,
    page_size: size,
    total_count: total,
  });
}

function filterByName(items: Item[], name: string | null, regex: boolean): Item[] {
  if (name === null || name === '') return items;
  let test: (s: string) => boolean;
  if (regex) {
    let re: RegExp;
    try {
      re = new RegExp(name);
    } catch {
      throw HttpError.badRequest(`invalid regular expression: ${name}`);
    }
    test = (s) => re.test(s);
  } else {
    test = (s) => s.includes(name);
  }
  return items.filter((i) => typeof i.name === 'string' && test(i.name));
}

function get(item: Item, path: string): unknown {
  let v: unknown = item;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Item)[k];
  }
  return v;
}

function sortBy(items: Item[], field: string, reverse: boolean): Item[] {
  const sorted = [...items].sort((a, b) => compare(get(a, field), get(b, field)));
  return reverse ? sorted.reverse() : sorted;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** `columns=name,message_stats.publish`: the named fields, nested ones kept nested. */
function pick(item: Item, columns: string): Item {
  const out: Item = {};
  for (const path of columns.split(',')) {
    const v = get(item, path);
    if (v === undefined) continue;
    const keys = path.split('.');
    let at = out;
    for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Item;
    at[keys[keys.length - 1]!] = v;
  }
  return out;
}

/** RabbitMQ's default order for queue and exchange lists (code-point order, not locale order). */
export function byVhostAndName(a: Item, b: Item): number {
  return compare(a.vhost, b.vhost) || compare(a.name, b.name);
}
