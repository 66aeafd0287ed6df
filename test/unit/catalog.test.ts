import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveConfig } from '../../lib/config';
import { renderCatalog } from '../../lambdas/core/catalog';
import { createRegistry } from '../../lambdas/core/registry';

describe('event-type catalog', () => {
  const root = resolve(__dirname, '../..');
  const context = JSON.parse(readFileSync(resolve(root, 'cdk.json'), 'utf8')).context?.auditTrail;
  const registry = createRegistry(resolveConfig(context).eventTypes);

  it('lists every registered type under its category', () => {
    const catalog = renderCatalog(registry);
    for (const definition of registry.list()) {
      expect(catalog).toMatch(new RegExp(`\\| \`${definition.type.replace(/\./g, '\\.')}\` \\| ${definition.severity} \\| ${definition.status} \\|`));
    }
    expect(catalog.indexOf('## security')).toBeGreaterThan(catalog.indexOf('## user_activity'));
  });

  it('is committed up to date (run `npm run catalog` after changing the registry)', () => {
    expect(readFileSync(resolve(root, 'docs/event-types.md'), 'utf8')).toBe(renderCatalog(registry));
  });
});
