// status: rabbitmqctl 3.10's sections (Runtime, Alarms, Memory, File Descriptors, Free Disk
// Space, Totals, Listeners) from /api/overview, /api/nodes/NODE and /api/vhosts; with
// --formatter json, rabbitmqctl's keys for the same facts. What only the Erlang node knows
// (plugins, config files, the memory breakdown) is left out.
import { seg } from './client.js';
import type { CommandSpec } from './command.js';
import { bold } from './format.js';

const PURPOSE: Record<string, string> = {
  amqp: 'AMQP 0-9-1 and AMQP 1.0',
  'amqp/ssl': 'AMQP 0-9-1 and AMQP 1.0 over TLS',
  http: 'HTTP API',
  https: 'HTTP API over TLS (HTTPS)',
  'http/prometheus': 'Prometheus exporter API over HTTP',
  clustering: 'inter-node and CLI tool communication',
};

/** Bytes as rabbitmqctl writes them: gigabytes, up to 4 decimals, Erlang's "0.0" for whole numbers. */
function gb(bytes: unknown): string {
  const n = Number((Number(bytes ?? 0) / 1e9).toFixed(4));
  return `${Number.isInteger(n) ? n.toFixed(1) : String(n)} gb`;
}

const iface = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

interface Listener { node?: string; protocol: string; ip_address: string; port: number }

export const statusCommand: CommandSpec = {
  name: 'status',
  usage: 'status',
  description: 'the broker\'s version, uptime, alarms, memory, disk space, totals and listeners',
  min: 0,
  max: 0,
  async run({ client, io, out }) {
    const overview = await client.get('/api/overview');
    const node = await client.get(`/api/nodes/${seg(String(overview.node))}`);
    const vhosts = (await client.get('/api/vhosts')) as unknown[];
    const alarms: string[] = [];
    if (node.mem_alarm === true) alarms.push('memory');
    if (node.disk_free_alarm === true) alarms.push('disk');
    const listeners = ((overview.listeners ?? []) as Listener[]).map((l) => ({
      interface: iface(l.ip_address), node: l.node ?? overview.node, port: l.port, protocol: l.protocol, purpose: PURPOSE[l.protocol] ?? l.protocol,
    }));
    const totals = { connection_count: overview.object_totals?.connections ?? 0, queue_count: overview.object_totals?.queues ?? 0, virtual_host_count: vhosts.length };
    if (out.json) {
      io.out(`${JSON.stringify({
        alarms: alarms.map((resource) => ({ node: overview.node, resource })),
        disk_free: node.disk_free, disk_free_limit: node.disk_free_limit, erlang_version: overview.erlang_full_version,
        file_descriptors: { sockets_limit: node.sockets_total, sockets_used: node.sockets_used, total_limit: node.fd_total, total_used: node.fd_used },
        is_under_maintenance: node.being_drained === true, listeners, memory: { total: { rss: node.mem_used } }, node: overview.node,
        pid: Number(node.os_pid), processes: { limit: node.proc_total, used: node.proc_used },
        product_name: overview.product_name, product_version: overview.product_version, rabbitmq_version: overview.rabbitmq_version,
        run_queue: node.run_queue, totals, uptime: Math.floor(Number(node.uptime ?? 0) / 1000), vm_memory_high_watermark_limit: node.mem_limit,
      })}\n`);
      return;
    }
    const lines: (string | undefined)[] = [
      ...(out.quiet ? [] : [`Status of node ${overview.node} ...`]),
      bold('Runtime'), '',
      `OS PID: ${node.os_pid}`,
      `Uptime (seconds): ${Math.floor(Number(node.uptime ?? 0) / 1000)}`,
      `Is under maintenance?: ${node.being_drained === true}`,
      `RabbitMQ version: ${overview.rabbitmq_version}`,
      overview.product_name ? `Product name: ${overview.product_name}` : undefined,
      overview.product_version ? `Product version: ${overview.product_version}` : undefined,
      `Node name: ${overview.node}`,
      `Erlang configuration: ${overview.erlang_full_version}`,
      node.proc_used !== undefined ? `Erlang processes: ${node.proc_used} used, ${node.proc_total} limit` : undefined,
      `Scheduler run queue: ${node.run_queue ?? 0}`,
      '', bold('Alarms'), '',
      ...(alarms.length === 0 ? ['(none)'] : alarms.map((a) => `${a === 'memory' ? 'Memory' : 'Free disk space'} alarm on node ${overview.node}`)),
      '', bold('Memory'), '',
      `Total memory used: ${gb(node.mem_used)}`,
      `Memory high watermark setting: computed to: ${gb(node.mem_limit)}`,
      '', bold('File Descriptors'), '',
      node.fd_total !== undefined ? `Total: ${node.fd_used}, limit: ${node.fd_total}` : undefined,
      `Sockets: ${node.sockets_used ?? 0}${node.sockets_total !== undefined ? `, limit: ${node.sockets_total}` : ''}`,
      '', bold('Free Disk Space'), '',
      `Low free disk space watermark: ${gb(node.disk_free_limit)}`,
      `Free disk space: ${gb(node.disk_free)}`,
      '', bold('Totals'), '',
      `Connection count: ${totals.connection_count}`,
      `Queue count: ${totals.queue_count}`,
      `Virtual host count: ${totals.virtual_host_count}`,
      '', bold('Listeners'), '',
      ...listeners.map((l) => `Interface: ${l.interface}, port: ${l.port}, protocol: ${l.protocol}, purpose: ${l.purpose}`),
    ];
    io.out(lines.filter((l) => l !== undefined).map((l) => `${l}\n`).join(''));
  },
};
