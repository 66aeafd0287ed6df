import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { renderEventTypesModule } from '../../lambdas/core/catalog-types';
import { createRegistry } from '../../lambdas/core/registry';
import { resolveConfig } from '../../lib/config';

const root = resolve(__dirname, '../..');
const context = JSON.parse(readFileSync(resolve(root, 'cdk.json'), 'utf8')).context?.auditTrail;
const registry = createRegistry(resolveConfig(context).eventTypes);

describe('client event types (client/src/event-types.ts)', () => {
  it('is generated from the registry and committed up to date (run `npm run catalog`)', () => {
    expect(readFileSync(resolve(root, 'client/src/event-types.ts'), 'utf8')).toBe(renderEventTypesModule(registry));
  });

  it('names every registered type with its defaults and usual details keys', () => {
    const source = renderEventTypesModule(registry);
    for (const d of registry.list()) expect(source).toContain(`  ${JSON.stringify(d.type)}: {\n    category: ${JSON.stringify(d.category)};`);
    expect(source).toMatch(/"payment\.charge\.failed": \{[^}]*fields: "actor\.userId" \| "record" \| "details\.amount" \| "details\.currency" \| "error\.code";\n {4}details: \{ "amount"\?: unknown; "currency"\?: unknown; \};/);
  });
});

describe('npm run catalog -- --scan', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-scan-'));
    mkdirSync(join(dir, 'src/jobs'), { recursive: true });
    mkdirSync(join(dir, 'node_modules/lib'), { recursive: true });
    writeFileSync(
      join(dir, 'src/checkout.ts'),
      [
        "import { createClient, unregistered } from '@audit-trail/client';",
        "const audit = createClient({ endpoint: '', apiKey: '' });",
        '// audit.log({ type: "commented.out" })',
        "const text = \"audit.log({ type: 'in.a.string' })\";",
        "audit.log({ type: 'payment.charge.failed', details: { amount: 1 } });",
        'export function retry(client: typeof audit) {',
        '  client.log({',
        "    severity: 'info',",
        '    type: `payment.charge.succeeded`,',
        '  });',
        "  client.error(new Error('x'), { type: 'job.failed' });",
        "  client.log({ type: unregistered('billing.trial.extended'), category: 'payment' });",
        "  console.log({ type: 'not.a.call.site' });",
        '}',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'src/jobs/nightly.js'), "module.exports = (audit) => audit.log({ type: 'typo.not.registered' });\n");
    writeFileSync(join(dir, 'node_modules/lib/index.js'), "audit.log({ type: 'from.a.dependency' });\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every logging call site with type, file and line, found by the TypeScript parser', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [require.resolve('tsx/cli'), 'scripts/catalog.ts', '--scan', dir], { cwd: root, timeout: 60_000 });
    const sites = stdout.split('\n').filter((line) => line.includes('\t'));
    expect(sites).toEqual([
      'billing.trial.extended\tsrc/checkout.ts:12  (unregistered, on purpose)',
      'job.failed\tsrc/checkout.ts:11',
      'payment.charge.failed\tsrc/checkout.ts:5',
      'payment.charge.succeeded\tsrc/checkout.ts:7',
      'typo.not.registered\tsrc/jobs/nightly.js:1  (NOT in the registry)',
    ]);
    expect(stdout).toContain('5 type(s) logged, 2 not in the registry.');
  }, 60_000);
});
