// The management API under load (`npm run bench -- http`, or `npm run bench:http`):
// autocannon on GET /api/queues with 1,000 queues and on GET /api/overview, req/s and p99,
// for Warren and (with BENCH_RABBITMQ_URL and BENCH_RABBITMQ_HTTP set, e.g. a private node
// from interop/differential/rabbitmq.sh) RabbitMQ side by side. Numbers printed and recorded,
// never asserted. S1 with a client polling /api/overview every second is run.mjs's S1_poll.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import autocannon from 'autocannon';
import { record, startBroker } from './support.mjs';

const QUEUES = Number(process.env.BENCH_HTTP_QUEUES || 1000);
const SECONDS = Number(process.env.BENCH_SECONDS || 5);
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function declareQueues(url, n) {
  const c = await amqp.connect(url);
  const ch = await c.createChannel();
  for (let i = 0; i < n; i++) await ch.assertQueue(`bench-http-${i}`, { durable: false });
  return async () => {
    for (let i = 0; i < n; i++) await ch.deleteQueue(`bench-http-${i}`);
    await c.close();
  };
}

function cannon(url) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: 10, duration: SECONDS, headers: { authorization: AUTH } }, (err, r) => {
      if (err) reject(err);
      else resolve({ rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
    });
  });
}

async function measure(label, amqpUrl, httpBase) {
  const cleanup = await declareQueues(amqpUrl, QUEUES);
  const rows = [];
  for (const path of ['/api/queues', '/api/overview']) {
    const r = await cannon(httpBase + path);
    rows.push(`${label.padEnd(9)} GET ${path.padEnd(14)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${String(r.p99).padStart(5)} ms  non-2xx ${r.non2xx}  errors ${r.errors}`);
  }
  await cleanup();
  return rows;
}

export async function httpBench() {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-bench-http-'));
  const mport = await freePort();
  const b = startBroker(dataDir, ['--management-port', String(mport)]);
  const { port } = await b.listening;
  const lines = [`${QUEUES} queues declared; autocannon 10 connections, ${SECONDS} s per endpoint`];
  try {
    lines.push(...await measure('Warren', `amqp://guest:guest@127.0.0.1:${port}`, `http://127.0.0.1:${mport}`));
  } finally {
    b.proc.kill('SIGTERM');
    await b.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
  const rUrl = process.env.BENCH_RABBITMQ_URL;
  const rHttp = process.env.BENCH_RABBITMQ_HTTP;
  if (rUrl && rHttp) lines.push(...await measure('RabbitMQ', rUrl, rHttp.replace(/\/$/, '')));
  else lines.push('RabbitMQ  not measured (set BENCH_RABBITMQ_URL and BENCH_RABBITMQ_HTTP)');
  for (const l of lines) console.log(l);
  record('management API (bench/http.mjs)', lines);
}

if (import.meta.url === `file://${process.argv[1]}`) httpBench().then(() => process.exit(0));
