// The npm package as a user gets it: `npm pack` on a copy of this checkout (so its `prepare`
// clean build cannot pull dist/ from under the other test files), `npm install <tarball>` into
// an empty project, then `npx warren` and `import { startBroker } from 'warren'` from there,
// and a strict TypeScript consumer of the shipped declarations.
//
// better-sqlite3 is native: its install script runs prebuild-install, which downloads a
// prebuilt binary from GitHub, and compiles from source (~55 s here) when that fails. This
// machine cannot reach github.com, so by default the test stands in for that download with
// prebuild-install's own offline source, a local-prebuilds directory
// (npm_config_better_sqlite3_local_prebuilds) holding the binary this checkout already built,
// packed as the GitHub asset is. The install script still runs as it would for a user.
// WARREN_PACK_FROM_SOURCE=1 leaves that out and pays for the compile.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';

const repo = join(__dirname, '..');
const fromSource = process.env.WARREN_PACK_FROM_SOURCE === '1';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const gitCheckout = existsSync(join(repo, '.git'));
let work = '';
let project = '';
const children: ChildProcess[] = [];

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A child whose stdout+stderr are collected; resolves `ready` when `pattern` shows up. */
function watch(cmd: string, args: string[], cwd: string, pattern: RegExp) {
  // Its own process group, so the whole tree can be signalled (see the npx test).
  const { WARREN_DATA_DIR: _dir, WARREN_EPHEMERAL: _eph, ...env } = process.env; // the CLI's defaults, as a user has them
  const proc = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(proc);
  let out = '';
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const ready = new Promise<RegExpExecArray>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve(m);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${out}`)));
  });
  ready.catch(() => {});
  return { proc, ready, exited, output: () => out };
}

/** better-sqlite3's GitHub release asset, rebuilt from the binary in this checkout. */
function localPrebuilds(dir: string): string {
  const mod = join(repo, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(mod, 'package.json'), 'utf8'));
  mkdirSync(dir, { recursive: true });
  const asset = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  run('tar', ['-czf', join(dir, asset), 'build/Release/better_sqlite3.node'], mod);
  return dir;
}

describe.skipIf(external || !gitCheckout)('npm package', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'warren-pack-'));
    // What a fresh clone would hold: tracked and untracked-but-not-ignored files.
    const copy = join(work, 'checkout');
    const files = run('git', ['ls-files', '-co', '--exclude-standard', '-z'], repo).split('\0').filter((f) => f && existsSync(join(repo, f)));
    for (const f of files) {
      mkdirSync(dirname(join(copy, f)), { recursive: true });
      cpSync(join(repo, f), join(copy, f));
    }
    symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const tarball = join(work, run(npm, ['pack', '--silent', '--pack-destination', work], copy).trim().split('\n').pop()!);

    project = join(work, 'project');
    mkdirSync(project);
    // allowScripts as npm 11 asks projects to say (README "Installing"): better-sqlite3 may build.
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-warren', version: '1.0.0', private: true, type: 'module', allowScripts: { 'better-sqlite3': true } }, null, 2));
    const env = fromSource ? {} : { npm_config_better_sqlite3_local_prebuilds: localPrebuilds(join(work, 'prebuilds')) };
    // --prefer-offline: from the npm cache when it can answer, the registry otherwise.
    run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project, env);
  }, fromSource ? 300_000 : 90_000);

  afterAll(async () => {
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships compiled JavaScript and declarations, not sources or TypeScript', () => {
    const pkg = join(project, 'node_modules', 'warren');
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/main.js', 'dist/broker.d.ts', 'package.json', 'README.md']) {
      expect(existsSync(join(pkg, f)), f).toBe(true);
    }
    for (const f of ['src', 'test', 'interop', 'tsconfig.json', 'dist/index.js.map', 'dist/broker.js']) expect(existsSync(join(pkg, f)), f).toBe(false);
    expect(existsSync(join(project, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
  });

  it('runs as `npx warren --port 0`: listening line, an amqplib connection, clean stop on SIGTERM', async () => {
    const w = watch('npx', ['warren', '--port', '0'], project, /listening for AMQP 0-9-1 on 127\.0\.0\.1:(\d+)/);
    const port = Number((await w.ready)[1]);
    const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const closed = new Promise<Error>((r) => c.on('close', r));
    c.on('error', () => {});
    // npm exec (npx) does not pass a SIGTERM sent to it alone on to the command: npx exits and
    // Warren runs on, orphaned (README "Installing"). A terminal's Ctrl-C, or `kill -- -PGID`,
    // signals the whole process group, and that is what is done here.
    process.kill(-w.proc.pid!, 'SIGTERM');
    expect(String(await closed)).toMatch(/320/);
    await w.exited;
    await new Promise((r) => setTimeout(r, 200)); // npx may exit before Warren's last line
    expect(w.output()).toMatch(/Warren stopped/);
    expect(existsSync(join(project, 'data', 'warren.db'))).toBe(true); // the CLI default, ./data
  });

  it('runs node_modules/.bin/warren directly, which gets the signal itself and exits 0', async () => {
    const w = watch(join(project, 'node_modules', '.bin', 'warren'), ['--port', '0', '--ephemeral'], project, /listening for AMQP 0-9-1 on 127\.0\.0\.1:(\d+)/);
    await w.ready;
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.output()).toMatch(/Warren stopped/);
  });

  it('is importable as `import { startBroker } from "warren"`', async () => {
    writeFileSync(join(project, 'embed.mjs'), [
      "import { startBroker } from 'warren';",
      'const broker = await startBroker();',
      'console.log(`READY ${broker.url} ${broker.dataDir}`);',
      "process.on('SIGTERM', async () => { await broker.stop(); console.log('STOPPED'); });",
    ].join('\n'));
    const w = watch(process.execPath, ['embed.mjs'], project, /READY (\S+) (\S+)/);
    const [, url, dataDir] = (await w.ready) as unknown as [string, string, string];
    const c = await amqp.connect(url);
    const ch = await c.createChannel();
    await ch.assertQueue('from-the-package');
    ch.sendToQueue('from-the-package', Buffer.from('hi'));
    const m = await new Promise<amqp.ConsumeMessage>((r) => ch.consume('from-the-package', (msg) => msg && r(msg)));
    expect(m.content.toString()).toBe('hi');
    await c.close();
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.output()).toMatch(/STOPPED/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('answers the management API and Prometheus from the installed package (their code is in chunks imported on first use)', async () => {
    writeFileSync(join(project, 'http.mjs'), [
      "import { startBroker } from 'warren';",
      'const broker = await startBroker({ management: true, prometheusPort: -1 });',
      'const api = new URL(broker.managementUrl);',
      "const auth = 'Basic ' + Buffer.from(`${decodeURIComponent(api.username)}:${decodeURIComponent(api.password)}`).toString('base64');",
      "const overview = await fetch(`http://${api.host}/api/overview`, { headers: { authorization: auth } });",
      "const metrics = await fetch(`http://127.0.0.1:${broker.broker.prometheusPort}/metrics`);",
      "console.log(`RESULT ${overview.status} ${(await overview.json()).product_name} ${metrics.status} ${/rabbitmq_connections/.test(await metrics.text())}`);",
      'await broker.stop();',
    ].join('\n'));
    const w = watch(process.execPath, ['http.mjs'], project, /RESULT (.+)/);
    expect((await w.ready)[1]).toBe('200 Warren 200 true');
    expect(await w.exited).toBe(0);
  });

  it('type-checks a strict TypeScript consumer against the shipped declarations', () => {
    writeFileSync(join(project, 'consumer.ts'), [
      "import { startBroker, type StartBrokerOptions, type WarrenHandle } from 'warren';",
      "const options: StartBrokerOptions = { port: 0, users: [{ name: 'ci', password: 'ci' }], vhosts: ['/'], logLevel: 'silent' };",
      'export async function f(): Promise<string> {',
      '  const h: WarrenHandle = await startBroker(options);',
      '  const url: string = h.url;',
      '  const mgmt: string | null = h.managementUrl;',
      '  await h[Symbol.asyncDispose]();',
      '  return url + String(mgmt) + h.broker.version;',
      '}',
    ].join('\n'));
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    // skipLibCheck off: the declarations themselves must check, with only @types/node around.
    run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--lib', 'es2022,esnext.disposable', '--types', 'node', '--typeRoots', join(repo, 'node_modules', '@types'), 'consumer.ts'], project);
  });
});
