import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { resolveConfig } from '../lib/config';
import { renderCatalog } from '../lambdas/core/catalog';
import { createRegistry } from '../lambdas/core/registry';

/** `npm run catalog`: writes docs/event-types.md from the registry (seed types plus cdk.json's extra ones). */
const root = resolve(__dirname, '..');
const context = JSON.parse(readFileSync(resolve(root, 'cdk.json'), 'utf8')).context?.auditTrail;
const registry = createRegistry(resolveConfig(context).eventTypes);
const out = resolve(root, 'docs/event-types.md');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, renderCatalog(registry));
console.log(`wrote ${out} (${registry.list().length} event types)`);
