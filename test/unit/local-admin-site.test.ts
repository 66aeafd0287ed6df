import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminSiteContentSecurityPolicy } from '../../lib/declarations/admin-site';
import { adminSiteFallback } from '../../local/admin-site';

let dir: string;
let server: Server;
let url: string;

async function serve(distDir: string): Promise<void> {
  const fallback = adminSiteFallback({ distDir });
  server = createServer((req, res) => {
    void fallback(req, res).then((served) => {
      if (!served) res.writeHead(404).end('fell through');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'admin-site-'));
  mkdirSync(join(dir, 'dist/assets'), { recursive: true });
  writeFileSync(join(dir, 'dist/index.html'), '<!doctype html><title>spa</title>');
  writeFileSync(join(dir, 'dist/assets/index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'outside the build');
});

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('the admin SPA on the local stack', () => {
  it('serves the index with the CSP and the other security headers CloudFront sends, uncached', async () => {
    await serve(join(dir, 'dist'));
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>spa</title>');
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(adminSiteContentSecurityPolicy());
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-cache');
  });

  it('serves hashed assets as immutable', async () => {
    await serve(join(dir, 'dist'));
    const response = await fetch(`${url}/assets/index-abc123.js`);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toContain('immutable');
  });

  it('generates a config.json that signs in with local tokens against its own origin', async () => {
    await serve(join(dir, 'dist'));
    const response = await fetch(`${url}/config.json`);
    expect(await response.json()).toEqual({ apiUrl: '', auth: { mode: 'local' } });
  });

  it('serves nothing outside the build, and leaves API paths, other methods and unknown files to the API', async () => {
    await serve(join(dir, 'dist'));
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/v1/events', '/missing.js', '/%E0%A4%A']) {
      const response = await fetch(`${url}${path}`);
      expect({ path, status: response.status, body: await response.text() }).toEqual({ path, status: 404, body: 'fell through' });
    }
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(404);
  });

  it('says how to build the SPA when it is not built', async () => {
    await serve(join(dir, 'nothing-here'));
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run frontend:build');
  });
});
