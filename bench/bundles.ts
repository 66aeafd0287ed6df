/**
 * `npm run bench`, bundles section: each deployed function bundled as
 * NodejsFunction bundles it (lib/constructs/api.ts), its size, and how long a
 * fresh Node.js process takes to load it — module initialisation, which is
 * most of a Lambda cold start's INIT phase beyond the runtime's own start.
 *
 * Each sample is a new `node` process with the function's environment as the
 * synthesized template gives it (references to tables, buckets, keys and
 * secrets replaced by dummy names and ARNs; no AWS credentials, no network),
 * which requires the bundle and reports performance.now() right after.
 * `@aws-sdk/*` stays external as on Lambda, so here it loads from
 * node_modules; on Lambda it comes from the runtime's copy: the import times
 * include the SDK either way, but from a different disk.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { FUNCTIONS, type FunctionDeclaration } from '../lib/declarations/functions';
import type { BenchOptions, BenchSection } from './section';
import { synthesizedStack, type TemplateJson } from './stack-template';

const REPO_ROOT = path.resolve(__dirname, '..');

export interface BundleResult {
  id: string;
  bytes: number;
  gzipBytes: number;
  importMsMedian: number;
  importMsP95?: number;
  /** From process start to the module loaded (node's own start included), median. */
  sinceProcessStartMsMedian: number;
  /** Spawn to exit, as the parent saw it, median. */
  wallMsMedian: number;
  /** Sockets or DNS lookups attempted while the module loaded: should be 0 (no AWS call at import). */
  networkAtImport: number;
}

export interface BundlesResults {
  functions: BundleResult[];
  totalGzipBytes: number;
  samples: number;
  node: string;
}

/** The bundling options of lib/constructs/api.ts, as NodejsFunction passes them to esbuild (CommonJS output). */
export async function bundleFunction(declaration: Pick<FunctionDeclaration, 'id' | 'entry'>, outDir: string): Promise<string> {
  const outfile = path.join(outDir, declaration.id, 'index.js');
  await build({
    entryPoints: [path.join(REPO_ROOT, declaration.entry)],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    target: 'node24',
    platform: 'node',
    format: 'cjs',
    // NodejsFunction's default for CommonJS output: prefer a package's ESM entry, which tree-shakes better.
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
  return outfile;
}

/**
 * The environment the template gives a function, with CloudFormation
 * references (table names, ARNs, bucket names) replaced by dummy values, plus
 * what the Lambda runtime sets. No credentials: nothing may call AWS at import.
 */
export function functionEnvironment(template: TemplateJson, logicalId: string): Record<string, string> {
  const variables = (template.Resources[logicalId]?.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value === 'string') environment[name] = value;
    else if (/ARN$/.test(name)) environment[name] = `arn:aws:bench:us-east-1:123456789012:${name.toLowerCase()}/dummy`;
    else if (/TOPIC/.test(name)) environment[name] = `arn:aws:sns:us-east-1:123456789012:bench-${name.toLowerCase()}`;
    else environment[name] = `bench-${name.toLowerCase().replace(/_/g, '-')}`;
  }
  return {
    ...environment,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: `AuditTrail-${logicalId}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(template.Resources[logicalId]?.Properties?.MemorySize ?? 128),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    LAMBDA_TASK_ROOT: '/var/task',
  };
}

/** Loads the bundle in a new process; the child reports its own timings and any network attempt during the load. */
const CHILD = `
const net = require('node:net'), dns = require('node:dns');
let network = 0;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) { network++; return connect.apply(this, args); };
const lookup = dns.lookup;
dns.lookup = function (...args) { network++; return lookup.apply(this, args); };
const started = performance.now();
require(process.argv[1]);
const loaded = performance.now();
process.stdout.write(JSON.stringify({ importMs: loaded - started, sinceStartMs: loaded, network }));
`;

interface Sample {
  importMs: number;
  sinceStartMs: number;
  wallMs: number;
  network: number;
}

export function importSample(bundle: string, environment: Record<string, string>): Sample {
  const started = performance.now();
  // The function's environment replaces ours, as on Lambda; NODE_PATH lets the external @aws-sdk/* resolve from the repository.
  const env = { PATH: process.env.PATH ?? '', NODE_PATH: path.join(REPO_ROOT, 'node_modules'), ...environment };
  const child = spawnSync(process.execPath, ['-e', CHILD, bundle], { env, encoding: 'utf8', timeout: 60_000 });
  const wallMs = performance.now() - started;
  if (child.status !== 0) throw new Error(`loading ${bundle} failed (${child.status}): ${child.stderr.slice(0, 2000)}`);
  const reported = JSON.parse(child.stdout) as { importMs: number; sinceStartMs: number; network: number };
  return { ...reported, wallMs };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(0.95 * values.length) - 1)]!;

export async function measureFunction(
  declaration: Pick<FunctionDeclaration, 'id' | 'entry'>,
  outDir: string,
  environment: Record<string, string>,
  samples: number,
): Promise<BundleResult> {
  const bundle = await bundleFunction(declaration, outDir);
  const code = readFileSync(bundle);
  const runs = Array.from({ length: samples }, () => importSample(bundle, environment));
  const importMs = runs.map((r) => r.importMs);
  return {
    id: declaration.id,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    importMsMedian: round(median(importMs)),
    ...(samples >= 5 ? { importMsP95: round(p95(importMs)) } : {}),
    sinceProcessStartMsMedian: round(median(runs.map((r) => r.sinceStartMs))),
    wallMsMedian: round(median(runs.map((r) => r.wallMs))),
    networkAtImport: Math.max(...runs.map((r) => r.network)),
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export async function bundlesSection(options: BenchOptions): Promise<BenchSection<BundlesResults>> {
  const samples = options.quick ? 3 : 7;
  const { built, template } = synthesizedStack();
  const outDir = mkdtempSync(path.join(tmpdir(), 'audit-bundles-'));
  const functions: BundleResult[] = [];
  try {
    for (const declaration of FUNCTIONS) {
      const fn = built.stack.api.functions.get(declaration.id);
      if (!fn) throw new Error(`the stack deploys no function ${declaration.id}`);
      const logicalId = Stack.of(built.stack).getLogicalId(fn.node.defaultChild as CfnElement);
      options.log(`bundles: ${declaration.id} (${samples} cold loads)`);
      functions.push(await measureFunction(declaration, outDir, functionEnvironment(template, logicalId), samples));
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  const totalGzipBytes = functions.reduce((n, f) => n + f.gzipBytes, 0);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const networked = functions.filter((f) => f.networkAtImport > 0);
  return {
    key: 'bundles',
    title: 'Lambda bundles: size and module load time (cold, one process per sample)',
    tables: [
      {
        headers: ['function', 'minified', 'gzipped', 'load median', ...(samples >= 5 ? ['load p95'] : []), 'process start → loaded', 'spawn → exit'],
        rows: [
          ...functions.map((f) => [
            f.id,
            kb(f.bytes),
            kb(f.gzipBytes),
            `${f.importMsMedian} ms`,
            ...(samples >= 5 ? [`${f.importMsP95} ms`] : []),
            `${f.sinceProcessStartMsMedian} ms`,
            `${f.wallMsMedian} ms`,
          ]),
          ['total', kb(functions.reduce((n, f) => n + f.bytes, 0)), kb(totalGzipBytes), '', ...(samples >= 5 ? [''] : []), '', ''],
        ],
      },
    ],
    notes: [
      `Bundled as lib/constructs/api.ts configures NodejsFunction (esbuild: minify, source maps without sources, target node24, platform node, CommonJS, @aws-sdk/* external); sizes are the .js without its .map.`,
      `Load time: median of ${samples} fresh \`node\` processes (${process.version} here; Lambda runs Node.js 24) requiring the bundle with the function's environment from the template (dummy table names and ARNs, AWS_REGION, NODE_OPTIONS=--enable-source-maps, no credentials).`,
      '@aws-sdk/* is external: here it loads from node_modules, on Lambda from the runtime; the load times include it either way. The Lambda INIT phase adds the runtime start (not measured) and, since August 2025, is billed.',
      networked.length === 0
        ? 'No function opened a socket or looked up a name while loading: no AWS call at import (secrets and rules are read on the first invocation).'
        : `Network at import (should not happen): ${networked.map((f) => `${f.id} (${f.networkAtImport})`).join(', ')}.`,
      'Figures from this shared 2-core machine vary between runs; compare functions within one run.',
    ],
    results: { functions, totalGzipBytes, samples, node: process.version },
  };
}
