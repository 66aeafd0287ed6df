import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AuditTrailApp } from '../lib/app';
import { buildTestApp } from '../test/helpers/test-app';

const REPO_ROOT = path.resolve(__dirname, '..');

export type TemplateJson = Record<string, any>;

let synthesized: { built: AuditTrailApp; template: TemplateJson } | undefined;

/**
 * The app `cdk synth` builds, with cdk.json's context and the stub admin SPA
 * (test/helpers/test-app.ts), synthesized once per process for the bench
 * sections that read the template. Function bundling is skipped
 * (`aws:cdk:bundling-stacks`): no figure read from the template depends on it,
 * and bench/bundles.ts bundles the functions itself.
 */
export function synthesizedStack(): { built: AuditTrailApp; template: TemplateJson } {
  if (!synthesized) {
    const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
    const built = buildTestApp({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
    const template = built.app.synth().getStackByName(built.stack.stackName).template as TemplateJson;
    synthesized = { built, template };
  }
  return synthesized;
}
