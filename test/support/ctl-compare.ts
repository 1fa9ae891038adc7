// Holding warren ctl's output to rabbitmqctl's: in differential mode (see ctl.ts) `same` runs
// both with the same arguments against the same node and `twin` runs them on twin objects
// (`${prefix}-thing-a` for warren ctl, `-b` for rabbitmqctl, compared with b written as a), so
// a command that changes something can be compared too. Outside differential mode both run
// warren ctl alone and the test asserts its output literally.
import { expect } from 'vitest';
import { rabbitmqctlFor, warrenCtl, type CtlTarget, type Run } from './ctl.js';

/**
 * A table cell ([{"k",v},...]) with its fields sorted: RabbitMQ's HTTP API gives tables sorted by
 * key where rabbitmqctl keeps the declared order (Warren's API keeps it too).
 */
function sortFields(cell: string): string {
  if (!cell.startsWith('[{')) return cell;
  const items: string[] = [];
  let depth = 0;
  let start = 1;
  for (let i = 1; i < cell.length - 1; i++) {
    const c = cell[i];
    if (c === '"') { i = cell.indexOf('"', i + 1); continue; }
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) { items.push(cell.slice(start, i)); start = i + 1; }
  }
  items.push(cell.slice(start, cell.length - 1));
  return `[${items.sort().join(',')}]`;
}

/** Output as compared with rabbitmqctl: info lines, header, the kept rows sorted, the error's head. */
export function shape(r: Run, keep: (row: string) => boolean = () => true, headers = true) {
  const lines = r.stdout.replace(/rabbitmqctl/g, 'warren ctl').split('\n').filter((l) => l !== '');
  const tabbed = lines.filter((l) => l.includes('\t'));
  const errHead: string[] = [];
  for (const l of r.stderr.split('\n')) {
    if (l === '' || l.startsWith('Arguments given:')) { if (errHead.length > 0) break; else continue; }
    errHead.push(l);
  }
  return { code: r.code, info: lines.filter((l) => !l.includes('\t')), header: headers ? (tabbed[0] ?? null) : null, rows: tabbed.slice(headers ? 1 : 0).filter(keep).map((l) => l.split('\t').map(sortFields).join('\t')).sort(), err: errHead };
}

export interface Compare {
  /** warren ctl `args`; in differential mode also rabbitmqctl `args`, which must answer alike. */
  same(args: string[], keep?: (row: string) => boolean, stdin?: string): Promise<Run>;
  /** warren ctl with `a` names, rabbitmqctl (differential mode) with `b` names. */
  twin(build: (s: 'a' | 'b') => string[], keep?: (row: string) => boolean): Promise<Run>;
}

/** `target` is read at each call (suites make theirs in beforeAll); `prefix` starts twin names. */
export function compare(target: () => CtlTarget, prefix: string): Compare {
  return {
    async same(args, keep, stdin) {
      const t = target();
      const ours = await warrenCtl(t, args, { stdin });
      const theirs = rabbitmqctlFor(t);
      const headers = !args.includes('--no-table-headers');
      if (theirs !== null) expect(shape(ours, keep, headers), `warren ctl ${args.join(' ')} vs rabbitmqctl`).toEqual(shape(await theirs(args, stdin), keep, headers));
      return ours;
    },
    async twin(build, keep) {
      const t = target();
      const ours = await warrenCtl(t, build('a'));
      const theirs = rabbitmqctlFor(t);
      if (theirs !== null) {
        const r = await theirs(build('b'));
        const swap = (s: string) => s.replace(new RegExp(`(${prefix}-[a-z]+)-b`, 'g'), '$1-a');
        expect(shape(ours, keep), `warren ctl ${build('a').join(' ')} vs rabbitmqctl`).toEqual(shape({ code: r.code, stdout: swap(r.stdout), stderr: swap(r.stderr) }, keep));
      }
      return ours;
    },
  };
}
