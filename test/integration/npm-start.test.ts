/**
 * `npm start` as a user runs it: a real process that prints where it is,
 * serves, stops cleanly on Ctrl-C (SIGINT), and keeps its data for the next start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulidx';
import { issueLocalToken } from '../../local/tokens';

const root = join(__dirname, '../..');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'audit-start-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function start(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [tsx, 'bin/local.ts'], { cwd: root, env: { ...process.env, PORT: '0', LOCAL_DATA_DIR: dataDir } });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner after 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready:\n${output}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

const portIsClosed = async (url: string) => fetch(url).then(() => false, () => true);

it('starts, serves, stops on Ctrl-C leaving nothing running, and keeps the data across a restart', async () => {
  const first = await start();
  expect((await fetch(`${first.url}/v1/health`)).status).toBe(200);
  const state = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8'));
  const id = ulid();
  const posted = await fetch(`${first.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'local-ingest-key' },
    body: JSON.stringify({ id, type: 'user.signup.succeeded', actor: { userId: 'u-1' } }),
  });
  expect(posted.status).toBe(200);

  expect(await stop(first.child)).toBe(0);
  expect(first.output()).toMatch(/Stopped\./);
  expect(await portIsClosed(first.url)).toBe(true);
  expect(await portIsClosed(state.dynamoDbEndpoint)).toBe(true); // DynamoDB Local's JVM is gone too
  expect(await portIsClosed(state.s3Endpoint)).toBe(true);
  expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);

  const second = await start();
  try {
    const token = await issueLocalToken(dataDir, { role: 'viewer' });
    const read = await fetch(`${second.url}/v1/events/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    expect((await read.json()).type).toBe('user.signup.succeeded');
  } finally {
    expect(await stop(second.child)).toBe(0);
  }
}, 120_000);

it('says how to get Java when it is missing', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent', LOCAL_DATA_DIR: dataDir };
  delete env.JAVA_HOME;
  const result = spawnSync(process.execPath, [tsx, 'bin/local.ts'], { cwd: root, env, encoding: 'utf8', timeout: 30_000 });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('DynamoDB Local needs Java 17 or newer');
  expect(result.stderr).toContain('apt-get install -y openjdk-17-jre-headless');
});
