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

  addNagChecks(app);
  return { app, stack };
}

/**
 * `-c nag=true|false`; cdk.json sets it true. Unset counts as on: skipping the checks must be asked for.
 * `-c nag=false` is for quick experiments (a `cdk synth` or `cdk diff` of a change not finished yet); deployments,
 * `npm run synth` and the tests keep the checks.
 */
export const NAG_CONTEXT = 'nag';

/**
 * cdk-nag's AWS Solutions pack, unless the `nag` context turns it off; whether it was added. cdk-nag 3 runs as a
 * policy validation plugin (it replaced v2's Aspect): an unacknowledged error-level finding fails synthesis, naming
 * the rule and the resource. Acknowledgements are also written into the template's metadata, for review.
 */
export function addNagChecks(app: App): boolean {
  const value: unknown = app.node.tryGetContext(NAG_CONTEXT);
  if (value !== undefined && value !== true && value !== 'true' && value !== false && value !== 'false') {
    throw new Error(`context ${NAG_CONTEXT} must be true or false, not ${JSON.stringify(value)}`);
  }
  if (value === false || value === 'false') return false;
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  return true;
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
