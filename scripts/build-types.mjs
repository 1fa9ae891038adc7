#!/usr/bin/env node
// Type declarations for the package (dist/**/*.d.ts), a second pass after `tsc` emitted the JS.
//
// Why not `declaration: true` in tsconfig.json: src/store/statements.ts returns an inferred
// type that names better-sqlite3's internal `BetterSqlite3.Statement`, which TypeScript cannot
// write into a .d.ts (TS4058), and that file is someone else's to change (an explicit return
// type there would fix it). Nothing public reaches it (Store keeps its statements private), so
// this pass emits every other declaration, accepts exactly that diagnostic, fails on any other,
// and checks that no emitted declaration imports the one that could not be written.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const KNOWN = { code: 4058, file: 'src/store/statements.ts' };

const configFile = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
const options = { ...parsed.options, declaration: true, emitDeclarationOnly: true, sourceMap: false, noCheck: true };
const program = ts.createProgram(parsed.fileNames, options);
const result = program.emit();
const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics].filter(
  (d) => !(d.code === KNOWN.code && d.file && relative(root, d.file.fileName) === KNOWN.file),
);
if (problems.length > 0) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
  process.stderr.write(ts.formatDiagnostics(problems, host));
  process.exit(1);
}
const missing = KNOWN.file.replace(/^src\//, '').replace(/\.ts$/, '.js');
const outDir = options.outDir;
const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
for (const f of walk(outDir).filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(f, 'utf8');
  if (text.includes(missing.split('/').pop())) {
    process.stderr.write(`${relative(root, f)} imports ${missing}, whose declaration cannot be emitted (see ${KNOWN.file})\n`);
    process.exit(1);
  }
}
