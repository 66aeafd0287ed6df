import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { functionEnvironment, measureFunction } from '../../bench/bundles';
import { synthesizedStack } from '../../bench/stack-template';
import { APP_KEY_AUTHORIZER_FUNCTION } from '../../lib/declarations/functions';

it('bundles one function as NodejsFunction does and loads it in a fresh process, with no network at import', async () => {
  const { built, template } = synthesizedStack();
  const fn = built.stack.api.functions.get(APP_KEY_AUTHORIZER_FUNCTION.id)!;
  const environment = functionEnvironment(template, Stack.of(built.stack).getLogicalId(fn.node.defaultChild as CfnElement));
  expect(environment).toMatchObject({ AWS_REGION: 'us-east-1', APP_KEYS_TABLE: expect.any(String), NODE_OPTIONS: '--enable-source-maps' });

  const outDir = mkdtempSync(path.join(tmpdir(), 'bench-bundles-test-'));
  try {
    const result = await measureFunction(APP_KEY_AUTHORIZER_FUNCTION, outDir, environment, 1);
    expect(result).toEqual({
      id: 'AppKeyAuthorizer',
      bytes: expect.any(Number),
      gzipBytes: expect.any(Number),
      importMsMedian: expect.any(Number),
      sinceProcessStartMsMedian: expect.any(Number),
      wallMsMedian: expect.any(Number),
      networkAtImport: 0,
    });
    expect(result.gzipBytes).toBeLessThan(result.bytes);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});
