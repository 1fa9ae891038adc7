// better-sqlite3 as the store opens it: `Sqlite` (the Database constructor, with SqliteError)
// is what lock.ts and schema.ts use instead of importing the package themselves.
//
// Why: loading better-sqlite3's dozen CommonJS files through Node's CJS loader (plus `bindings`,
// which probes a dozen paths for the addon) does enough path.resolve work during start-up that
// V8 tiers node:path's normalizeString up to TurboFan, and TurboFan's code, paged in from the
// node binary then, stays resident: ~4 MiB of a started broker's idle RSS (`node --trace-opt`;
// `npm run bench:start`). So the shipped bundle carries better-sqlite3's JavaScript
// (rolldown.config.mjs) and this module hands it the installed native addon by path
// (`nativeBinding`), which is one dlopen and no probing.
//
// The JavaScript and the addon must come from the same release: the bundled JS is used only
// when the installed package is the version it was built from (package.json pins it) and its
// addon is where prebuild-install and node-gyp put it; anything else (another version, a Debug
// build) loads the installed package as it is, so a mismatch costs memory, never correctness.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Bundled from 'better-sqlite3';
// In the bundle, the version of the JavaScript above (inlined at build time); from tsc's output
// and under vitest, the installed package's own, which is then the same thing.
import bundledPackage from 'better-sqlite3/package.json' with { type: 'json' };

/** What the store uses of the package: construct (never call) and the error class. */
interface DatabaseConstructor {
  new (file: string, options?: Bundled.Options): Bundled.Database;
  readonly SqliteError: typeof Bundled.SqliteError;
}

function load(): DatabaseConstructor {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve('better-sqlite3/package.json'));
  } catch {
    return Bundled; // not resolvable from here (an unusual layout): the bundled JS and its own lookup
  }
  const installed = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  const addon = join(dir, 'build', 'Release', 'better_sqlite3.node');
  if (installed !== bundledPackage.version || !existsSync(addon)) return require('better-sqlite3') as DatabaseConstructor;
  // A subclass, so `Sqlite.SqliteError`, `instanceof` and the types stay better-sqlite3's own.
  return class WithInstalledAddon extends Bundled {
    constructor(file: string, options?: Bundled.Options) {
      super(file, { ...options, nativeBinding: addon });
    }
  };
}

export const Sqlite: DatabaseConstructor = load();
