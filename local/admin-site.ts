/**
 * The admin SPA on the local stack, at `/`: the built files of frontend/dist (`npm run frontend:build`, which
 * `npm start` runs first) with the headers CloudFront sends, and a generated config.json that signs people
 * in with local tokens. Everything else falls through to the API's 404.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import {
  ADMIN_SITE_CONFIG_PATH,
  ADMIN_SITE_DIST,
  ADMIN_SITE_IMMUTABLE_PREFIX,
  ADMIN_SITE_SECURITY_HEADERS,
  adminSiteContentSecurityPolicy,
  type AdminSiteConfig,
} from '../lib/declarations/admin-site';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** What CloudFront's response headers policy adds, minus HSTS (meaningless, and sticky, on plain-HTTP localhost). */
export const LOCAL_ADMIN_SITE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': adminSiteContentSecurityPolicy(),
  'x-frame-options': ADMIN_SITE_SECURITY_HEADERS.frameOptions,
  'x-content-type-options': ADMIN_SITE_SECURITY_HEADERS.contentTypeOptions,
  'referrer-policy': ADMIN_SITE_SECURITY_HEADERS.referrerPolicy,
};

export const LOCAL_ADMIN_SITE_CONFIG: AdminSiteConfig = { apiUrl: '', auth: { mode: 'local' } };

export interface AdminSiteOptions {
  /** The built SPA; the repository's frontend/dist by default. */
  distDir?: string;
}

/** A fallback for the local API Gateway: serves GET/HEAD of the SPA's files, or answers false. */
export function adminSiteFallback(options: AdminSiteOptions = {}): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const distDir = resolve(options.distDir ?? join(__dirname, '..', ADMIN_SITE_DIST));
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://local').pathname);
    } catch {
      return false;
    }
    if (pathname.startsWith('/v1/')) return false;

    if (pathname === ADMIN_SITE_CONFIG_PATH) {
      send(res, req, 200, { 'content-type': CONTENT_TYPES['.json']!, 'cache-control': 'no-cache' }, JSON.stringify(LOCAL_ADMIN_SITE_CONFIG));
      return true;
    }
    const relative = pathname === '/' ? 'index.html' : pathname.slice(1);
    const file = normalize(join(distDir, relative));
    // Nothing outside the build, whatever the path says.
    if (file !== distDir && !file.startsWith(distDir + sep)) return false;
    if (!existsSync(file) || !statSync(file).isFile()) {
      if (pathname !== '/') return false;
      send(res, req, 503, { 'content-type': CONTENT_TYPES['.txt']! }, 'The admin SPA is not built: run `npm run frontend:build` (npm start does it first).\n');
      return true;
    }
    const immutable = pathname.startsWith(ADMIN_SITE_IMMUTABLE_PREFIX);
    const headers = {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': String(statSync(file).size),
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    };
    res.writeHead(200, { ...LOCAL_ADMIN_SITE_HEADERS, ...headers });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
    return true;
  };
}

function send(res: ServerResponse, req: IncomingMessage, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...LOCAL_ADMIN_SITE_HEADERS, ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
