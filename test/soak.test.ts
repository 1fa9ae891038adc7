// Short versions of the evidence scripts in bench/ (the long ones are `npm run soak:crash`,
// `npm run soak:fuzz` and `npm run soak:churn`, figures in bench/results.md): each script runs as a child process, as a
// user would run it, and its RESULT line is checked. They need dist/ (`npm test` builds first).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { external } from './support/broker.js';
import { built } from './support/process.js';

const BENCH = join(__dirname, '..', 'bench');

/** Runs a bench script to its end; its exit code and the JSON of its RESULT line. */
function run(script: string, env: Record<string, string>): Promise<{ code: number | null; result: Record<string, unknown>; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(BENCH, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => {
      const line = /^RESULT (.*)$/m.exec(output);
      resolve({ code, result: line ? (JSON.parse(line[1]!) as Record<string, unknown>) : {}, output });
    });
  });
}

describe.skipIf(external || !built)('evidence scripts, short versions', () => {
  it('crash loop: 3 SIGKILLs under confirmed persistent load, immediate restarts, nothing confirmed lost', async () => {
    const { code, result, output } = await run('crash-loop.mjs', { CRASH_KILLS: '3' });
    console.log(output);
    expect(result).toMatchObject({ kills: 3, lost: 0, corrupt: 0, failed: null });
    expect(result.confirmed as number).toBeGreaterThan(0);
    expect(code).toBe(0);
  }, 120_000);

  it('fuzz under load: 10,000 mutated frames and 100 malformed handshakes; the good client loses nothing', async () => {
    const { code, result, output } = await run('fuzz-load.mjs', { FUZZ_FRAMES: '10000', FUZZ_HANDSHAKES: '100', FUZZ_DEADLINE_S: '100' });
    console.log(output);
    expect(result).toMatchObject({ ok: true, alive: true, internal: 0, good: { missing: 0, duplicated: 0, outOfOrder: 0, nacked: 0, errors: [] } });
    expect(result.frames as number).toBeGreaterThanOrEqual(10_000);
    expect(result.handshakes).toBe(100);
    expect(code).toBe(0);
  }, 120_000);

  it('churn soak: 60 s of 1,000 connects a minute with consumers and queues coming and going; RSS flat, no client error', async () => {
    const { code, result, output } = await run('soak.mjs', { SOAK_SECONDS: '60', SOAK_REPORT_S: '10' });
    console.log(output);
    expect(result).toMatchObject({ ok: true, alive: true, flat: true, errors: [] });
    expect(result.connects as number).toBeGreaterThan(900);
    expect(code).toBe(0);
  }, 120_000);
});
