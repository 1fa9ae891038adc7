// Users, vhosts and permissions over /api/users, /api/vhosts and /api/permissions, with
// rabbitmqctl 3.10's lines and exit codes (67 for a user that does not exist, 69 for a missing
// vhost in set/clear_permissions, 65 in delete_vhost and list_permissions). Where the HTTP API
// would quietly do something else (PUT /api/users/U creates or overwrites, PUT without a
// password clears it), the command looks first.
import { CtlError, EXIT } from './args.js';
import { seg, type Client } from './client.js';
import type { CommandSpec, Ctx } from './command.js';
import { writeInfo, writeRows, type Column } from './format.js';
import { pickColumns } from './list.js';

const noUser = (u: string) => new CtlError(EXIT.nouser, `Error:\nUser "${u}" does not exist`);

/** GET /api/users/U, or null; a 404 on /api/users itself means the API has no users at all. */
async function findUser(client: Client, u: string, method = 'GET', path = `/api/users/${seg(u)}`): Promise<Record<string, unknown> | null> {
  const r = await client.request('GET', `/api/users/${seg(u)}`);
  if (r.status === 200) return r.body as Record<string, unknown>;
  if (r.status !== 404) throw client.failed(r);
  await client.checkOffered('/api/users', method, path);
  return null;
}

export async function vhostExists(client: Client, v: string): Promise<boolean> {
  return client.exists(`/api/vhosts/${seg(v)}`);
}

/** rabbitmqctl's answer (65, no "Error:" line) for a vhost that is not there. */
export const noVhost = (v: string) => new CtlError(EXIT.dataerr, `Virtual host '${v}' does not exist`);

/** A PUT, POST or DELETE that must succeed; `notFound` says what a 404 means. */
async function change(ctx: Ctx, method: string, path: string, body: unknown, notFound: () => CtlError): Promise<void> {
  const r = await ctx.client.request(method, path, body);
  if (r.status === 404) throw notFound();
  if (r.status < 200 || r.status > 299) throw ctx.client.failed(r);
}

/** The password argument, or the first line of standard input, as rabbitmqctl takes it. */
async function passwordOf(ctx: Ctx, given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  const line = (await ctx.io.stdin()).split(/\r?\n/)[0] ?? '';
  if (line === '') throw new CtlError(EXIT.dataerr, 'Error:\nPassword is not provided via argument or stdin');
  return line;
}

const col = (name: string, get: Column['get'] = (o) => o[name], kind: Column['kind'] = 'plain'): Column => ({ name, kind, get });

const userCommands: CommandSpec[] = [
  {
    name: 'list_users', usage: 'list_users [--no-table-headers]', description: 'lists users and their tags', min: 0, max: 0, options: ['no-table-headers'],
    async run(ctx) {
      const r = await ctx.client.request('GET', '/api/users');
      if (r.status === 404) throw ctx.client.notOffered('GET', '/api/users', 404);
      if (r.status !== 200) throw ctx.client.failed(r);
      writeRows(ctx.io, ctx.out, ['Listing users ...'], [col('user', (o) => o.name), col('tags', (o) => o.tags, 'tags')], r.body as unknown[]);
    },
  },
  {
    name: 'add_user', usage: 'add_user <username> [<password>]', description: 'adds a user (the password from standard input when not given)', min: 1, max: 2,
    async run(ctx) {
      const u = ctx.args[0]!;
      writeInfo(ctx.io, ctx.out, [`Adding user "${u}" ...`]);
      const password = await passwordOf(ctx, ctx.args[1]);
      if ((await findUser(ctx.client, u, 'PUT')) !== null) throw new CtlError(EXIT.software, `Error:\nUser "${u}" already exists`);
      await change(ctx, 'PUT', `/api/users/${seg(u)}`, { password, tags: '' }, () => ctx.client.notOffered('PUT', `/api/users/${seg(u)}`, 404));
      writeInfo(ctx.io, ctx.out, ["Done. Don't forget to grant the user permissions to some virtual hosts! See 'warren ctl help set_permissions' to learn more."]);
    },
  },
  {
    name: 'delete_user', usage: 'delete_user <username>', description: 'deletes a user and their permissions', min: 1, max: 1,
    async run(ctx) {
      const u = ctx.args[0]!;
      writeInfo(ctx.io, ctx.out, [`Deleting user "${u}" ...`]);
      const path = `/api/users/${seg(u)}`;
      const r = await ctx.client.request('DELETE', path);
      if (r.status === 404) {
        await ctx.client.checkOffered('/api/users', 'DELETE', path);
        throw noUser(u);
      }
      if (r.status !== 204 && r.status !== 200) throw ctx.client.failed(r);
    },
  },
  {
    name: 'change_password', usage: 'change_password <username> [<password>]', description: 'sets a user\'s password', min: 1, max: 2,
    async run(ctx) {
      const u = ctx.args[0]!;
      writeInfo(ctx.io, ctx.out, [`Changing password for user "${u}" ...`]);
      const password = await passwordOf(ctx, ctx.args[1]);
      const user = await findUser(ctx.client, u, 'PUT');
      if (user === null) throw noUser(u);
      await change(ctx, 'PUT', `/api/users/${seg(u)}`, { password, tags: (user.tags as string[] | undefined ?? []).join(',') }, () => noUser(u));
    },
  },
  {
    name: 'set_user_tags', usage: 'set_user_tags <username> <tag> [...]', description: 'replaces a user\'s tags (none clears them)', min: 1, max: Infinity,
    async run(ctx) {
      const [u, ...tags] = ctx.args as [string, ...string[]];
      writeInfo(ctx.io, ctx.out, [`Setting tags for user "${u}" to [${tags.join(', ')}] ...`]);
      const user = await findUser(ctx.client, u, 'PUT');
      if (user === null) throw noUser(u);
      // The hash goes back with the tags: a PUT without a password clears it.
      const body = { password_hash: user.password_hash ?? '', hashing_algorithm: user.hashing_algorithm ?? 'rabbit_password_hashing_sha256', tags: tags.join(',') };
      await change(ctx, 'PUT', `/api/users/${seg(u)}`, body, () => noUser(u));
    },
  },
];

const vhostCommands: CommandSpec[] = [
  {
    name: 'list_vhosts', usage: 'list_vhosts [--no-table-headers] [<column> ...]',
    description: 'columns: cluster_state, default_queue_type, description, name, tags, tracing (default: name)', min: 0, max: Infinity, options: ['no-table-headers'],
    async run(ctx) {
      const known = new Map<string, Column>([
        ['cluster_state', col('cluster_state', undefined, 'cluster_state')], ['default_queue_type', col('default_queue_type')],
        ['description', col('description', (o) => o.description ?? o.metadata?.description)], ['name', col('name')],
        ['tags', col('tags', (o) => o.tags ?? o.metadata?.tags, 'tags')], ['tracing', col('tracing')],
      ]);
      const cols = pickColumns(ctx, known, ['name']);
      writeRows(ctx.io, ctx.out, ['Listing vhosts ...'], cols, await ctx.client.get('/api/vhosts'));
    },
  },
  {
    name: 'add_vhost', usage: 'add_vhost <vhost> [--description <description> --tags "<tag1>,<tag2>,<...>" --default-queue-type <quorum|classic|stream>]',
    description: 'creates a vhost (one that exists is left as it is)', min: 1, max: 1, options: ['description', 'tags', 'default-queue-type'],
    async run(ctx) {
      const v = ctx.args[0]!;
      writeInfo(ctx.io, ctx.out, [`Adding vhost "${v}" ...`]);
      const body: Record<string, string> = {};
      if (typeof ctx.values.description === 'string') body.description = ctx.values.description;
      if (typeof ctx.values.tags === 'string') body.tags = ctx.values.tags;
      if (typeof ctx.values['default-queue-type'] === 'string') body.default_queue_type = ctx.values['default-queue-type'];
      const path = `/api/vhosts/${seg(v)}`;
      await change(ctx, 'PUT', path, body, () => ctx.client.notOffered('PUT', path, 404));
    },
  },
  {
    name: 'delete_vhost', usage: 'delete_vhost <vhost>', description: 'deletes a vhost and everything in it', min: 1, max: 1,
    async run(ctx) {
      const v = ctx.args[0]!;
      writeInfo(ctx.io, ctx.out, [`Deleting vhost "${v}" ...`]);
      const path = `/api/vhosts/${seg(v)}`;
      if (!(await vhostExists(ctx.client, v))) throw noVhost(v);
      await change(ctx, 'DELETE', path, undefined, () => noVhost(v));
    },
  },
];

/** Whether user and vhost exist, checked in rabbitmqctl's order (user first). */
async function userAndVhost(ctx: Ctx, u: string, method: string, path: string): Promise<void> {
  if ((await findUser(ctx.client, u, method, path)) === null) throw new CtlError(EXIT.nouser, `Error:\nUser ${u} does not exist`);
  if (!(await vhostExists(ctx.client, ctx.vhost))) throw new CtlError(EXIT.unavailable, `Error:\nVirtual host ${ctx.vhost} does not exist`);
}

const permissionCommands: CommandSpec[] = [
  {
    name: 'list_permissions', usage: 'list_permissions [--vhost <vhost>] [--no-table-headers]', description: 'lists the users\' permissions in a vhost', min: 0, max: 0, options: ['vhost', 'no-table-headers'],
    async run(ctx) {
      writeInfo(ctx.io, ctx.out, [`Listing permissions for vhost "${ctx.vhost}" ...`]);
      const path = `/api/vhosts/${seg(ctx.vhost)}/permissions`;
      const r = await ctx.client.request('GET', path);
      if (r.status === 404) {
        if (await vhostExists(ctx.client, ctx.vhost)) throw ctx.client.notOffered('GET', path, 404);
        throw noVhost(ctx.vhost);
      }
      if (r.status !== 200) throw ctx.client.failed(r);
      const cols = ['user', 'configure', 'write', 'read'].map((n) => col(n));
      writeRows(ctx.io, { ...ctx.out, quiet: true }, [], cols, r.body as unknown[]);
    },
  },
  {
    name: 'list_user_permissions', usage: 'list_user_permissions [--no-table-headers] <username>', description: 'lists a user\'s permissions in every vhost', min: 1, max: 1, options: ['no-table-headers'],
    async run(ctx) {
      const u = ctx.args[0]!;
      writeInfo(ctx.io, ctx.out, [`Listing permissions for user "${u}" ...`]);
      const path = `/api/users/${seg(u)}/permissions`;
      const r = await ctx.client.request('GET', path);
      if (r.status === 404) {
        if ((await findUser(ctx.client, u, 'GET', path)) === null) throw noUser(u);
        throw ctx.client.notOffered('GET', path, 404);
      }
      if (r.status !== 200) throw ctx.client.failed(r);
      const cols = ['vhost', 'configure', 'write', 'read'].map((n) => col(n));
      writeRows(ctx.io, { ...ctx.out, quiet: true }, [], cols, r.body as unknown[]);
    },
  },
  {
    name: 'set_permissions', usage: 'set_permissions [--vhost <vhost>] <username> <conf> <write> <read>', description: 'sets a user\'s configure, write and read patterns in a vhost', min: 4, max: 4, options: ['vhost'],
    async run(ctx) {
      const [u, configure, write, read] = ctx.args as [string, string, string, string];
      writeInfo(ctx.io, ctx.out, [`Setting permissions for user "${u}" in vhost "${ctx.vhost}" ...`]);
      const path = `/api/permissions/${seg(ctx.vhost)}/${seg(u)}`;
      await userAndVhost(ctx, u, 'PUT', path);
      await change(ctx, 'PUT', path, { configure, write, read }, () => ctx.client.notOffered('PUT', path, 404));
    },
  },
  {
    name: 'clear_permissions', usage: 'clear_permissions [--vhost <vhost>] <username>', description: 'removes a user\'s permissions in a vhost', min: 1, max: 1, options: ['vhost'],
    async run(ctx) {
      const u = ctx.args[0]!;
      writeInfo(ctx.io, ctx.out, [`Clearing permissions for user "${u}" in vhost "${ctx.vhost}" ...`]);
      const path = `/api/permissions/${seg(ctx.vhost)}/${seg(u)}`;
      await userAndVhost(ctx, u, 'DELETE', path);
      const r = await ctx.client.request('DELETE', path);
      // None to clear is no error, as in rabbitmqctl; a 404 for /api/permissions itself is.
      if (r.status === 404) await ctx.client.checkOffered('/api/permissions', 'DELETE', path);
      else if (r.status !== 204 && r.status !== 200) throw ctx.client.failed(r);
    },
  },
];

export const accessCommands: CommandSpec[] = [...userCommands, ...vhostCommands, ...permissionCommands];
