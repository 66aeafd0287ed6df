import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AuditTrailStack } from './audit-trail-stack';
import { resolveConfig } from './config';

export interface BuildAppOptions {
  /**
   * A finished build of the admin SPA (index.html at its root) to deploy instead of building frontend/ during
   * synthesis. Tests pass a stub (test/fixtures/admin-site) so that no synthesis runs Vite.
   */
  adminSiteBuild?: string;
}

export interface AuditTrailApp {
  app: App;
  stack: AuditTrailStack;
}

/**
 * Everything `bin/app.ts` builds, as a function so tests synthesize exactly
 * the same app. Under the CDK CLI the context (cdk.json, `-c`) reaches the
 * App through the environment; tests pass cdk.json's context explicitly.
 */
export function buildApp(props: AppProps = {}, options: BuildAppOptions = {}): AuditTrailApp {
  const app = new App(props);
  const config = resolveConfig(parseIfString(app.node.tryGetContext('auditTrail')));

  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  const stack = new AuditTrailStack(app, 'AuditTrail', {
    config,
    description: 'Audit trail: event ingestion, storage and query API',
    ...(options.adminSiteBuild ? { adminSiteBuild: options.adminSiteBuild } : {}),
    // Environment-agnostic unless the CLI knows the account and region.
    ...(account && region ? { env: { account, region } } : {}),
  });

  // cdk-nag 3 runs as a policy validation plugin (it replaced v2's Aspect): an unacknowledged error-level
  // finding fails synthesis. Acknowledgements are also written into the template's metadata, for review.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  return { app, stack };
}

/** `cdk synth -c auditTrail='{...}'` passes the object as a JSON string; cdk.json passes it parsed. */
function parseIfString(context: unknown): unknown {
  if (typeof context !== 'string') return context;
  try {
    return JSON.parse(context);
  } catch {
    throw new Error('context auditTrail is not valid JSON');
  }
}
