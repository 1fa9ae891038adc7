// The shipped entry points as bundles: dist/main.js (the `warren` command) and dist/index.js
// (`import ... from 'warren'`), written over what tsc emitted there, with chunk-*.js for what
// they share. Why: Node 20 loads ~55 separate ES modules noticeably slower than one file; the
// bundle takes ~20 ms off a ~120 ms process start (npm run bench:start). The rest of dist/
// stays as tsc wrote it: benches import the codec from there, and the .d.ts files describe
// the same modules the bundles were made from.
import { readFileSync } from 'node:fs';
import { defineConfig } from 'rolldown';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
// better-sqlite3's JavaScript is bundled (src/store/sqlite.ts says why; it then loads the
// installed native addon by path), so only `bindings`, its addon finder, stays outside, for the
// fallback to the installed package's own loading.
const external = [...Object.keys(pkg.dependencies ?? {}).filter((d) => d !== 'better-sqlite3'), 'bindings'];

export default defineConfig({
  input: { main: 'dist/main.js', index: 'dist/index.js' },
  platform: 'node',
  external: (id) => external.some((d) => id === d || id.startsWith(`${d}/`)),
  output: {
    dir: 'dist',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunk-[name].js',
    sourcemap: true,
    // V8 keeps each module's source text for the life of the process (lazy compilation,
    // Function.prototype.toString), and one non-ASCII character (a "café" in a doc comment)
    // makes it a two-byte string: doc comments are for the sources, and the map points there.
    comments: { jsdoc: false, legal: true, annotation: true },
  },
});
