// The store for child processes: tests that need a second process on a data directory (the
// lock, SIGKILL in mid-commit) run plain-node scripts that import `./store/store.js` from a
// directory made here. src/store is transpiled into it file by file (no dist/ needed, so these
// tests run without a build), with node_modules linked for better-sqlite3.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Fills `dir` (a fresh temporary directory unless given) with a runnable copy of src/store and
 * returns it; the caller removes it. Scripts written into it import `./store/store.js`.
 */
export function buildStoreForChildren(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-store-child-'))): string {
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  fs.mkdirSync(path.join(dir, 'store'));
  const src = path.join(ROOT, 'src', 'store');
  for (const f of fs.readdirSync(src).filter((n) => n.endsWith('.ts'))) {
    const out = ts.transpileModule(fs.readFileSync(path.join(src, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    fs.writeFileSync(path.join(dir, 'store', f.replace(/\.ts$/, '.js')), out.outputText);
  }
  return dir;
}
