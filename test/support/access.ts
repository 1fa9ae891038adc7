// Users, vhosts and permissions for interop suites, made the same way on both brokers: through
// Warren's Broker API in-process, or through RabbitMQ's management HTTP API in differential mode
// (WARREN_EXTERNAL_HTTP, e.g. http://127.0.0.1:15721, with guest:guest). Everything made is
// removed again by cleanup() (call it in afterAll).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import amqp, { type ChannelModel } from 'amqplib';
import type { Broker } from '../../src/broker.js';

export const externalHttp = process.env.WARREN_EXTERNAL_HTTP;

export interface Perms { configure: string; write: string; read: string }
export const ALL: Perms = { configure: '.*', write: '.*', read: '.*' };

export interface AccessAdmin {
  addVhost(name: string): Promise<void>;
  deleteVhost(name: string): Promise<void>;
  addUser(name: string, password: string, tags?: string[]): Promise<void>;
  deleteUser(name: string): Promise<void>;
  setPermissions(user: string, vhost: string, p: Perms): Promise<void>;
  clearPermissions(user: string, vhost: string): Promise<void>;
  setTopicPermissions(user: string, vhost: string, exchange: string, write: string, read: string): Promise<void>;
  /** The user keeps its tags but has no password any more (rabbitmqctl clear_password). */
  clearPassword(user: string): Promise<void>;
  /** Connect as `user` to `vhost` on the suite's broker (closed by cleanup()). */
  connect(user: string, password: string, vhost: string): Promise<ChannelModel>;
  /** Deletes the users and vhosts made here, and closes the connections. */
  cleanup(): Promise<void>;
}

/** `warren()` is the in-process broker (null in differential mode); `port` its AMQP port. */
export function accessAdmin(warren: () => Broker | null, port: () => number): AccessAdmin {
  const users = new Set<string>();
  const vhosts = new Set<string>();
  const conns: ChannelModel[] = [];
  const ops = externalHttp ? httpOps(externalHttp) : brokerOps(() => warren()!);
  return {
    async addVhost(name) { vhosts.add(name); await ops.addVhost(name); },
    deleteVhost: async (name) => { vhosts.delete(name); await ops.deleteVhost(name); },
    async addUser(name, password, tags = []) { users.add(name); await ops.addUser(name, password, tags); },
    deleteUser: async (name) => { users.delete(name); await ops.deleteUser(name); },
    setPermissions: (u, v, p) => ops.setPermissions(u, v, p),
    clearPermissions: (u, v) => ops.clearPermissions(u, v),
    setTopicPermissions: (u, v, x, w, r) => ops.setTopicPermissions(u, v, x, w, r),
    clearPassword: (u) => ops.clearPassword(u),
    async connect(user, password, vhost) {
      const c = await amqp.connect(`amqp://127.0.0.1:${port()}/${encodeURIComponent(vhost)}`, {
        credentials: amqp.credentials.plain(user, password),
      });
      c.on('error', () => {});
      conns.push(c);
      return c;
    },
    async cleanup() {
      for (const c of conns.splice(0)) await c.close().catch(() => {});
      for (const u of users) await ops.deleteUser(u).catch(() => {});
      for (const v of vhosts) await ops.deleteVhost(v).catch(() => {});
      users.clear();
      vhosts.clear();
    },
  };
}

/**
 * The connection.close a refused connection.open got, as "530 NOT_ALLOWED - ...": amqplib only
 * says "Expected ConnectionOpenOk; got <ConnectionClose>", so its handshake's frames are read here.
 */
export async function openRefusal(connect: () => Promise<unknown>): Promise<string> {
  const proto = AmqplibConnection.prototype as { step(cb: (err: unknown, f?: RawFrame) => void): void };
  const step = proto.step;
  let text = '';
  proto.step = function (this: unknown, cb) {
    step.call(this, (err, f) => {
      if (f?.channel === 0 && f.id === CONNECTION_CLOSE) text = `${f.fields.replyCode} ${f.fields.replyText}`;
      cb(err, f);
    });
  };
  try {
    await connect();
    return 'connected';
  } catch (e) {
    return text || String(e);
  } finally {
    proto.step = step;
  }
}

type RawFrame = { channel: number; id: number; fields: { replyCode: number; replyText: string } };
const CONNECTION_CLOSE = (10 << 16) | 50;
// Not in amqplib's package exports: reached by its path next to the package's main file.
const req = createRequire(import.meta.url);
const AmqplibConnection = (req(join(dirname(req.resolve('amqplib')), 'lib', 'connection.js')) as { Connection: { prototype: object } }).Connection;

type Ops = Omit<AccessAdmin, 'connect' | 'cleanup'>;

function brokerOps(b: () => Broker): Ops {
  return {
    // The management API gives the user who creates a vhost every permission in it; so do we.
    addVhost: async (name) => { b().addVhost(name); b().setPermissions('guest', name, ALL); },
    deleteVhost: async (name) => b().deleteVhost(name),
    addUser: async (name, password, tags) => { b().users.addUser(name, password, tags); },
    deleteUser: async (name) => b().users.deleteUser(name),
    setPermissions: async (u, v, p) => b().setPermissions(u, v, p),
    clearPermissions: async (u, v) => b().registry.clearPermissions(u, v),
    setTopicPermissions: async (u, v, exchange, write, read) => b().registry.setTopicPermissions(u, v, { exchange, write, read }),
    clearPassword: async (u) => b().users.clearPassword(u),
  };
}

function httpOps(base: string): Ops {
  const call = async (method: string, path: string, body?: object) => {
    const res = await fetch(`${base}/api/${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} /api/${path}: ${res.status} ${await res.text()}`);
  };
  const e = encodeURIComponent;
  return {
    addVhost: (name) => call('PUT', `vhosts/${e(name)}`, {}),
    deleteVhost: (name) => call('DELETE', `vhosts/${e(name)}`),
    addUser: (name, password, tags = []) => call('PUT', `users/${e(name)}`, { password, tags: tags.join(',') }),
    deleteUser: (name) => call('DELETE', `users/${e(name)}`),
    setPermissions: (u, v, p) => call('PUT', `permissions/${e(v)}/${e(u)}`, p),
    clearPermissions: (u, v) => call('DELETE', `permissions/${e(v)}/${e(u)}`),
    setTopicPermissions: (u, v, exchange, write, read) => call('PUT', `topic-permissions/${e(v)}/${e(u)}`, { exchange, write, read }),
    clearPassword: (u) => call('PUT', `users/${e(u)}`, { password_hash: '', tags: '' }),
  };
}
