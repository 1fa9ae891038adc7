// The checked-in generated codec must be exactly what the generator makes from spec/.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('generated codec', () => {
  it('matches spec/generate.mjs output', () => {
    expect(() => execFileSync(process.execPath, ['spec/generate.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
