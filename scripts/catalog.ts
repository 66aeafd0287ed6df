import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { resolveConfig } from '../lib/config';
import { renderCatalog } from '../lambdas/core/catalog';
import { renderEventTypesModule } from '../lambdas/core/catalog-types';
import { createRegistry } from '../lambdas/core/registry';

/** `npm run catalog`: writes docs/event-types.md from the registry (seed types plus cdk.json's extra ones). */
const root = resolve(__dirname, '..');
const context = JSON.parse(readFileSync(resolve(root, 'cdk.json'), 'utf8')).context?.auditTrail;
const registry = createRegistry(resolveConfig(context).eventTypes);
const out = resolve(root, 'docs/event-types.md');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, renderCatalog(registry));
console.log(`wrote ${out} (${registry.list().length} event types)`);

// The registry as TypeScript types for the client SDK (`client.log({ type })` is checked at compile time).
const typesOut = resolve(root, 'client/src/event-types.ts');
writeFileSync(typesOut, renderEventTypesModule(registry));
console.log(`wrote ${typesOut}`);

// `npm run catalog -- --scan <dir>`: every logging call site in a source tree (type, file, line).
const scanAt = process.argv.indexOf('--scan');
if (scanAt >= 0) {
  const dir = process.argv[scanAt + 1];
  if (!dir) {
    console.error('usage: npm run catalog -- --scan <dir>');
    process.exit(2);
  }
  import('./call-sites')
    .then(async ({ findLogCallSites }) => {
      const sites = await findLogCallSites(dir);
      console.log(`\n${sites.length} logging call site(s) under ${dir}:`);
      for (const site of sites) {
        const note = site.unregistered ? '  (unregistered, on purpose)' : registry.has(site.type) ? '' : '  (NOT in the registry)';
        console.log(`${site.type}\t${site.file}:${site.line}${note}`);
      }
      const types = new Set(sites.map((site) => site.type));
      const unknown = [...types].filter((type) => !registry.has(type));
      console.log(`${types.size} type(s) logged, ${unknown.length} not in the registry.`);
    })
    .catch((error: unknown) => {
      console.error(`scan failed: ${(error as Error).message}`);
      process.exit(1);
    });
}
