// Imports a TypeScript module from plain node (Node 20 cannot): the fuzz generators live in
// test/support/wire-fuzz.ts so that the vitest suites type-check them, and the bench scripts
// use the very same code. The module may import node builtins only (it runs from a data: URL).
import { readFileSync } from 'node:fs';
import ts from 'typescript';

export async function importTs(file) {
  const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    fileName: file,
  });
  return import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);
}
