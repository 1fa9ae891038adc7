// The web UI's files as the management listener serves them: the page, its scripts, the
// vendored libraries from node_modules, and nothing outside ui/.
import { describe, expect, it } from 'vitest';
import { StaticFiles } from '../src/http/static.js';

describe('web UI static files', () => {
  const files = new StaticFiles();
  it('serves the page at / and the app and vendored libraries under /ui/', () => {
    expect(files.lookup('/')?.body.toString()).toContain('<script type="module" src="/ui/app.js">');
    expect(files.lookup('/ui/app.js')?.type).toBe('text/javascript; charset=utf-8');
    expect(files.lookup('/ui/style.css')?.type).toBe('text/css; charset=utf-8');
    for (const v of ['preact.mjs', 'hooks.mjs', 'htm.mjs', 'uPlot.js', 'uPlot.css']) expect(files.lookup(`/ui/vendor/${v}`)?.body.length).toBeGreaterThan(1000);
  });
  it('answers nothing outside ui/ and nothing that is not a known file type', () => {
    expect(StaticFiles.owns('/api/overview')).toBe(false);
    for (const p of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json', '/ui/vendor/../../package.json', '/ui/vendor/nope.js', '/ui/missing.js', '/ui/%zz']) {
      expect(files.lookup(p), p).toBeNull();
    }
  });
});
