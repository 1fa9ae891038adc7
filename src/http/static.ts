// The web UI's files, served by the management listener beside the API: `/` is the app's page,
// `/ui/...` its scripts and styles (ui/ in the package), `/ui/vendor/...` the libraries it
// runs on, read from their npm packages (preact, htm, uplot: dependencies of Warren, so an
// installed Warren has them and nothing is fetched from elsewhere). No authentication: the
// files hold no data; the app logs in and calls /api/ with basic auth like any other client.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** /ui/vendor/NAME -> [npm package, file inside it]. */
const VENDOR: Record<string, [string, string]> = {
  'preact.mjs': ['preact', 'dist/preact.mjs'],
  'hooks.mjs': ['preact', 'hooks/dist/hooks.mjs'],
  'htm.mjs': ['htm', 'dist/htm.mjs'],
  'uPlot.js': ['uplot', 'dist/uPlot.iife.min.js'],
  'uPlot.css': ['uplot', 'dist/uPlot.min.css'],
};

/** The directory holding Warren's package.json (src/http/ in a checkout, dist/ when built or installed). */
function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(d, 'package.json');
    if (existsSync(pj) && existsSync(join(d, 'ui', 'index.html'))) return d;
    const up = dirname(d);
    if (up === d) throw new Error('the web UI files (ui/) are not next to any package.json');
    d = up;
  }
}

/** An npm package's directory as Node would find it from Warren's package (hoisted or not). */
function packageDir(root: string, name: string): string | null {
  for (let d = root; ; d = dirname(d)) {
    const c = join(d, 'node_modules', name);
    if (existsSync(join(c, 'package.json'))) return c;
    if (dirname(d) === d) return null;
  }
}

export class StaticFiles {
  private root: string | null = null;
  private readonly cache = new Map<string, StaticFile | null>();

  /** The file for a GET of `path` (percent-encoded, as received), or null when it is not one of ours. */
  lookup(path: string): StaticFile | null {
    let hit = this.cache.get(path);
    if (hit === undefined) {
      hit = this.load(path);
      // Only the small fixed set of real files is remembered; misses are not (a scan cannot grow the map).
      if (hit !== null) this.cache.set(path, hit);
    }
    return hit;
  }

  /** Paths this class answers (404 as plain text when the file is missing), as opposed to the API's. */
  static owns(path: string): boolean {
    return path === '/' || path === '/index.html' || path.startsWith('/ui/');
  }

  private load(path: string): StaticFile | null {
    const root = (this.root ??= packageRoot());
    let file: string | null;
    if (path === '/' || path === '/index.html') file = join(root, 'ui', 'index.html');
    else if (path.startsWith('/ui/vendor/')) {
      const v = VENDOR[path.slice('/ui/vendor/'.length)];
      const dir = v === undefined ? null : packageDir(root, v[0]);
      file = v === undefined || dir === null ? null : join(dir, v[1]);
    } else {
      let rel: string;
      try {
        rel = decodeURIComponent(path.slice('/ui/'.length));
      } catch {
        return null;
      }
      const base = join(root, 'ui');
      const full = normalize(join(base, rel));
      file = full.startsWith(base + sep) ? full : null;
    }
    if (file === null || !existsSync(file)) return null;
    const ext = /\.[a-z]+$/.exec(file)?.[0] ?? '';
    const type = TYPES[ext];
    if (type === undefined) return null;
    try {
      return { body: readFileSync(file), type };
    } catch {
      return null;
    }
  }
}
