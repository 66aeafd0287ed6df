import * as path from 'node:path';
import type { AppProps } from 'aws-cdk-lib';
import { buildApp, type AuditTrailApp } from '../../lib/app';

/** A stand-in for the admin SPA's build (index.html and one hashed file under assets/). */
export const ADMIN_SITE_STUB = path.resolve(__dirname, '..', 'fixtures', 'admin-site');

/**
 * The app `cdk synth` builds (lib/app.ts), with the admin site deployed from ADMIN_SITE_STUB instead of a Vite
 * build of frontend/: the infra tests synthesize many times and need not depend on the SPA compiling.
 */
export function buildTestApp(props: AppProps = {}): AuditTrailApp {
  return buildApp(props, { adminSiteBuild: ADMIN_SITE_STUB });
}
