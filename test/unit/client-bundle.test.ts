import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

/** `npm run client:build`: ESM + CJS builds and a browser bundle that stays small and free of Node modules. */
describe('client build', () => {
  const root = resolve(__dirname, '../..');
  let output = '';
  beforeAll(async () => {
    output = (await promisify(execFile)(process.execPath, ['client/build.mjs'], { cwd: root, timeout: 60_000 })).stdout;
  }, 60_000);

  it('bundles for browsers without Node built-ins, under 10 KB gzipped', () => {
    const bundle = readFileSync(resolve(root, 'client/dist/browser.min.mjs'), 'utf8');
    expect(bundle).not.toMatch(/["']node:|require\(/);
    const size = JSON.parse(readFileSync(resolve(root, 'client/dist/size.json'), 'utf8')) as { minified: number; gzipped: number };
    expect(size.gzipped).toBeLessThan(10 * 1024);
    expect(output).toMatch(/browser bundle: [\d.]+ KB minified, [\d.]+ KB gzipped/);
  });

  it('loads as CommonJS and as ESM', async () => {
    const cjs = require(resolve(root, 'client/dist/index.cjs'));
    expect(typeof cjs.createClient).toBe('function');
    const esm = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', `import('${resolve(root, 'client/dist/index.mjs')}').then((m) => console.log(typeof m.createClient, m.ulid().length))`]);
    expect(esm.stdout.trim()).toBe('function 26');
  });
});
