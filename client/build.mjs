// `npm run client:build`: the client as ESM and CommonJS (dist/), plus the minified browser bundle whose
// gzipped size the README quotes. lambdas/core/redact.ts (the server's redaction) is bundled in; its one
// Node import, node:buffer, is replaced by a browser-safe stand-in everywhere but the Node entry.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
mkdirSync(dist, { recursive: true });

const bufferShim = {
  name: 'buffer-shim',
  setup(b) {
    b.onResolve({ filter: /^node:buffer$/ }, () => ({ path: join(here, 'src/buffer-shim.ts') }));
  },
};

const common = { bundle: true, target: 'es2022', sourcemap: true, logLevel: 'warning' };
for (const [entry, platform] of [['index', 'neutral'], ['middleware', 'neutral'], ['node', 'node']]) {
  for (const format of ['esm', 'cjs']) {
    await build({
      ...common,
      entryPoints: [join(here, `src/${entry}.ts`)],
      outfile: join(dist, `${entry}.${format === 'esm' ? 'mjs' : 'cjs'}`),
      format,
      platform,
      plugins: platform === 'node' ? [] : [bufferShim],
    });
  }
}

// What a browser app ships: everything createClient needs, minified.
const browser = join(dist, 'browser.min.mjs');
await build({ ...common, sourcemap: false, entryPoints: [join(here, 'src/index.ts')], outfile: browser, format: 'esm', platform: 'browser', minify: true, plugins: [bufferShim] });
const code = readFileSync(browser);
const size = { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
writeFileSync(join(dist, 'size.json'), `${JSON.stringify(size, null, 2)}\n`);
console.log(`browser bundle: ${(size.minified / 1024).toFixed(1)} KB minified, ${(size.gzipped / 1024).toFixed(1)} KB gzipped`);
