// The web UI in a real headless Chromium (Debian's `chromium`, driven by playwright-core; no
// browser download) against a broker with traffic: logs in, watches the overview chart move,
// compares a queue's depth on the page with the API, publishes from the UI and fetches the
// message with amqplib, replays a dead-lettered message from the UI and finds it, x-death kept,
// in its original queue. Writes a screenshot of every page, at 1280x800 and narrow (420x800),
// to screenshots/ (not committed) for a reviewer to look at.
// Skips without chromium, and in differential mode (RabbitMQ serves its own UI at /).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpSuite } from '../test/support/http.js';
import { eventually, external, sleep, uniqueName, xDeath } from '../test/support/suite.js';

// Browser globals inside page.evaluate callbacks (the test tsconfig has no DOM lib).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const location: any;
declare const window: any;

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const SHOTS = join(__dirname, '..', 'screenshots');

const s = httpSuite({ broker: { users: [{ name: 'guest', password: 'guest', tags: ['administrator'] }, { name: 'watcher', password: 'w-pass', tags: ['management'] }] } });

describe.skipIf(external || CHROMIUM === undefined)('web UI in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  let traffic: NodeJS.Timeout | null = null;
  const shot = async (name: string, p: Page = page) => {
    await sleep(150);
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  /** Opens a UI route and waits for its heading. */
  const open = async (hash: string, p: Page = page) => {
    await p.evaluate((h) => { location.hash = h; }, hash);
    await p.waitForSelector('main h1');
  };
  const login = async (p: Page, user: string, pass: string) => {
    await p.goto(`${s.http}/?poll=500`);
    await p.fill('#u', user);
    await p.fill('#p', pass);
    await p.click('#login button[type=submit]');
    await p.waitForSelector('aside nav');
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => { throw e; });
    // Traffic: a publisher and an acking consumer on a queue of their own.
    const q = await s.queue('ui-traffic');
    const ch = await s.chan();
    await ch.consume(q, (m) => { if (m) ch.ack(m); });
    traffic = setInterval(() => { for (let i = 0; i < 20; i++) s.ch.sendToQueue(q, Buffer.from(`t${i}`)); }, 50);
    await login(page, 'guest', 'guest');
  }, 30_000);
  afterAll(async () => {
    if (traffic) clearInterval(traffic);
    await browser?.close();
  });

  it('the overview chart moves with the traffic, and shows the totals', async () => {
    await open('#/');
    const points = () => page.$eval('#chart-rates', (e) => Number(e.getAttribute('data-points')));
    await page.waitForFunction(() => Number(document.querySelector('#chart-rates')?.getAttribute('data-points')) >= 2);
    const first = await points();
    await eventually(async () => (await points()) >= first + 3, 'more points', { timeoutMs: 8000 });
    // The publish rate on the page is the traffic's (not zero), and the chart drew a line.
    await eventually(async () => (await page.$eval('[data-rate=publish]', (e) => e.textContent)) !== '0/s', 'a publish rate');
    const drawn = await page.$eval('#chart-rates canvas', (c) => {
      const cv = c as any;
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let coloured = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && !(d[i] === d[i + 1] && d[i + 1] === d[i + 2])) coloured++;
      return coloured;
    });
    expect(drawn).toBeGreaterThan(50);
    const connections = await page.$eval('[data-total=connections] b', (e) => e.textContent);
    expect(Number(connections)).toBeGreaterThanOrEqual(1);
    await shot('overview-1280');
  });

  it("a queue's depth on the list and on its page matches the API", async () => {
    const q = await s.queue('ui-depth');
    await s.send(q, Array.from({ length: 7 }, (_, i) => `m${i}`));
    const api = (await s.api('GET', `/api/queues/%2F/${q}`)).body;
    await open('#/queues');
    await page.fill('#queues input[aria-label=filter]', q);
    await page.waitForFunction((n) => document.querySelectorAll('#queues tbody tr').length === 1 && document.querySelector('#queues tbody td.name')?.textContent === n, q);
    expect(await page.$eval('#queues tbody [data-ready]', (e) => e.textContent)).toBe(String(api.messages_ready));
    await page.fill('#queues input[aria-label=filter]', '');
    await page.waitForFunction(() => document.querySelectorAll('#queues tbody tr').length >= 2);
    await shot('queues-1280');
    await page.click(`#queues a[href="#/queues/%2F/${q}"]`);
    await page.waitForSelector('#queue-ready');
    await eventually(async () => (await page.$eval('#queue-ready', (e) => e.textContent)) === '7', 'depth 7 on the page');
    expect(api.messages_ready).toBe(7);
    await shot('queue-1280');
  });

  it('a message published from the UI is fetched through amqplib, headers and all', async () => {
    const q = await s.queue('ui-publish');
    await open(`#/queues/%2F/${q}`);
    await page.fill('#publish input[name=headers]', '{"origin": "ui"}');
    await page.fill('#publish input[name=properties]', '{"content_type": "application/json", "message_id": "ui-1"}');
    await page.fill('#publish textarea[name=payload]', '{"hello": "from the UI"}');
    await page.click('#publish button[type=submit]');
    await page.waitForSelector('#publish [data-role=published]');
    const m = await s.ch.get(q, { noAck: true });
    expect(m).not.toBe(false);
    if (m === false) return;
    expect(JSON.parse(m.content.toString())).toEqual({ hello: 'from the UI' });
    expect(m.properties).toMatchObject({ contentType: 'application/json', messageId: 'ui-1', deliveryMode: 2, headers: { origin: 'ui' } });
  });

  it('a dead-lettered message replayed from the UI arrives at its original queue with its x-death kept', async () => {
    const dlq = await s.queue('ui-dlq');
    const work = await s.queue('ui-work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await s.send(work, ['{"order": 42}'], { persistent: true, headers: { attempt: 1 } });
    const m = await s.ch.get(work, { noAck: false });
    if (m === false) throw new Error('no message');
    s.ch.nack(m, false, false);
    await eventually(async () => (await s.ch.checkQueue(dlq)).messageCount === 1, 'dead-lettered');

    await open(`#/queues/%2F/${dlq}`);
    await page.waitForSelector('#replay'); // offered: the queue is where `work` dead-letters to
    // Peek first: the x-death history as a table.
    await page.click('#get-messages button[type=submit]');
    await page.waitForSelector('#get-messages table.xdeath');
    const row = await page.$$eval('#get-messages table.xdeath tbody td', (tds) => tds.map((t) => t.textContent));
    expect(row.slice(1, 6)).toEqual(['1', 'rejected', work, '(default)', work]);
    await shot('queue-dead-letters-1280');
    await page.check('#replay input[name=all]');
    await page.click('#replay button[type=submit]');
    await page.waitForSelector('#replay [data-role=replayed]');
    expect(await page.$eval('#replay [data-role=replayed]', (e) => e.textContent)).toContain('Replayed 1');
    await shot('queue-replayed-1280');

    const back = await s.ch.get(work, { noAck: true });
    expect(back).not.toBe(false);
    if (back === false) return;
    expect(back.content.toString()).toBe('{"order": 42}');
    expect(back.properties.headers).toMatchObject({ attempt: 1, 'x-warren-replayed': 1, 'x-first-death-queue': work });
    expect(xDeath(back)).toMatchObject([{ queue: work, reason: 'rejected', count: 1, 'routing-keys': [work] }]);
    expect((await s.ch.checkQueue(dlq)).messageCount).toBe(0);
  });

  it('exchanges, bindings, connections (with client properties) and channels pages', async () => {
    const x = uniqueName('ui-x');
    await s.ch.assertExchange(x, 'topic', { durable: false });
    const q = await s.queue('ui-bound');
    await s.ch.bindQueue(q, x, 'orders.#');
    await open('#/exchanges');
    await page.waitForSelector('#exchanges tbody tr');
    await shot('exchanges-1280');
    await open(`#/exchanges/%2F/${x}`);
    await page.waitForSelector('td.mono >> text=orders.#', { timeout: 5000 });
    await shot('exchange-1280');
    await open('#/bindings');
    await page.waitForSelector('#bindings tbody tr');
    await shot('bindings-1280');
    await open('#/channels');
    await page.waitForSelector('#channels tbody tr');
    await shot('channels-1280');
    // A connection of its own, closed from the UI.
    const c = await amqp.connect(s.url, { clientProperties: { connection_name: 'ui-closable' } });
    c.on('error', () => {});
    const closed = new Promise<Error | undefined>((r) => c.on('close', r));
    await open('#/connections');
    await page.waitForSelector('#connections tbody tr');
    await shot('connections-1280');
    const name = (await s.api('GET', '/api/connections')).body.find((k: { client_properties: Record<string, unknown> }) => k.client_properties.connection_name === 'ui-closable').name;
    await open(`#/connections/${encodeURIComponent(name)}`);
    await page.waitForSelector('td >> text=connection_name', { timeout: 5000 });
    await shot('connection-1280');
    await page.click('#close-connection button');
    await page.waitForSelector('text=Closed.', { timeout: 5000 });
    expect(String(await closed)).toContain('CONNECTION_FORCED');
  });

  it('a user created in the UI logs in over AMQP', async (ctx) => {
    await open('#/users');
    await shot('users-1280');
    if ((await s.api('GET', '/api/users')).status === 404) {
      ctx.skip('Warren answers 404 on /api/users until the users/vhosts/permissions endpoints land; the page shows a notice');
    }
    const name = uniqueName('ui-user');
    await page.fill('#add-user input[name=name]', name);
    await page.fill('#add-user input[name=password]', 's3cret');
    await page.fill('#add-user input[name=tags]', 'management');
    await page.click('#add-user button[type=submit]');
    await page.waitForSelector(`#users td.name >> text=${name}`);
    await open('#/permissions');
    await page.selectOption('#set-permission select[name=user]', name);
    await page.selectOption('#set-permission select[name=vhost]', '/');
    await page.click('#set-permission button[type=submit]');
    await page.waitForSelector(`#permissions td >> text=${name}`);
    await shot('permissions-1280');
    const c = await amqp.connect(s.url.replace('guest:guest', `${name}:s3cret`));
    await c.close();
    await open('#/users');
    page.once('dialog', (d) => void d.accept());
    await page.click(`#users tr:has(td.name:text-is("${name}")) button`);
    await page.waitForFunction((n) => ![...document.querySelectorAll('#users td.name')].some((t) => t.textContent === n), name);
  });

  it('a vhost created in the UI takes a queue, then is deleted', async (ctx) => {
    await open('#/vhosts');
    await shot('vhosts-1280');
    const probe = await s.api('PUT', `/api/vhosts/${uniqueName('ui-probe')}`, {});
    if (probe.status === 404 || probe.status === 405) {
      ctx.skip(`Warren answers ${probe.status} on PUT /api/vhosts until the users/vhosts/permissions endpoints land`);
    }
    const v = uniqueName('ui-vhost');
    await page.fill('#add-vhost input[name=name]', v);
    await page.click('#add-vhost button[type=submit]');
    await page.waitForSelector(`#vhosts td.name >> text=${v}`);
    expect((await s.api('PUT', `/api/queues/${encodeURIComponent(v)}/q1`, {})).status).toBe(201);
    page.once('dialog', (d) => void d.accept());
    await page.click(`#vhosts tr:has(td.name:text-is("${v}")) button`);
    await eventually(async () => (await s.api('GET', `/api/vhosts/${encodeURIComponent(v)}`)).status === 404, 'vhost gone');
  });

  it('definitions download and upload', async (ctx) => {
    await open('#/definitions');
    await shot('definitions-1280');
    if ((await s.api('GET', '/api/definitions')).status === 404) {
      ctx.skip('Warren answers 404 on /api/definitions until that endpoint lands');
    }
    const download = page.waitForEvent('download');
    await page.click('#download-definitions');
    const file = await (await download).path();
    expect(file).toBeTruthy();
    await page.setInputFiles('#upload-definitions input[type=file]', file);
    await page.click('#upload-definitions button[type=submit]');
    await page.waitForSelector('text=imported');
  });

  it('a management user (no administrator tag) is not offered the admin pages', async () => {
    const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await login(p, 'watcher', 'w-pass');
    const nav = await p.$$eval('aside nav a', (as) => as.map((a) => a.textContent));
    expect(nav).toEqual(['Overview', 'Queues', 'Exchanges', 'Bindings', 'Connections', 'Channels']);
    await p.close();
  });

  it('wrong credentials are refused on the login form', async () => {
    const p = await browser.newPage();
    await p.goto(`${s.http}/`);
    await p.fill('#u', 'guest');
    await p.fill('#p', 'nope');
    await p.click('#login button[type=submit]');
    await p.waitForSelector('text=Login failed');
    await shot('login-failed', p);
    await p.close();
  });

  it('narrow window (420x800): every page still lays out', async () => {
    const p = await browser.newPage({ viewport: { width: 420, height: 800 } });
    p.on('pageerror', (e) => { throw e; });
    await login(p, 'guest', 'guest');
    const q = await s.queue('ui-narrow');
    await s.send(q, ['x']);
    for (const [hash, name] of [['#/', 'overview'], ['#/queues', 'queues'], [`#/queues/%2F/${q}`, 'queue'], ['#/exchanges', 'exchanges'], ['#/connections', 'connections']] as const) {
      await open(hash, p);
      await sleep(hash === '#/' ? 1200 : 400);
      // Nothing wider than the window except inside the tables' own scroll boxes.
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name} overflows`).toBeLessThanOrEqual(0);
      await shot(`${name}-narrow`, p);
    }
    await p.close();
  });
});
