/**
 * The local stack killed (SIGKILL, every process of it: Node, DynamoDB
 * Local's JVM) while apps keep posting: after a restart on the same data
 * folder, every event that was acknowledged is there, whole. Events whose
 * request was cut off may or may not be stored, which is why clients retry
 * them with the same ids.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulidx';
import { EVENTS_TABLE } from '../../lib/declarations/tables';
import { localAwsClientConfig } from '../../local/dynamodb-local';

const root = join(__dirname, '../..');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
const API_KEY = 'crash-recovery-test-key';
let dataDir: string;
const running = new Set<ChildProcess>();

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'audit-crash-'));
});
afterAll(() => {
  for (const child of running) killGroup(child);
  rmSync(dataDir, { recursive: true, force: true });
});

/** `npm start` in its own process group, so that the whole stack can be killed at once. */
function start(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [tsx, 'bin/local.ts'], {
    cwd: root,
    detached: true,
    env: { ...process.env, PORT: '0', LOCAL_DATA_DIR: dataDir, INGEST_API_KEY: API_KEY, POWERTOOLS_LOG_LEVEL: 'ERROR' },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner after 90 s:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready:\n${output}`)));
  });
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

const portIsClosed = (url: string) => fetch(url).then(() => false, () => true);

it('every acknowledged event survives the stack being killed mid-ingestion', async () => {
  const first = await start();
  const acknowledged: string[] = [];
  const cutOff: string[] = [];
  let killed = false;

  // Four apps posting batches of 25 back to back until the stack dies under them.
  const client = async () => {
    while (!killed) {
      const events = Array.from({ length: 25 }, (_, i) => ({ id: ulid(), type: 'crash.drill', category: 'user_activity', page: `/p/${i}`, actor: { userId: `u-${i}` } }));
      try {
        const response = await fetch(`${first.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
          body: JSON.stringify({ events }),
        });
        const body = (await response.json()) as { results: { id: string; status: string }[] };
        if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
        for (const result of body.results) (result.status === 'accepted' ? acknowledged : cutOff).push(result.id);
      } catch {
        cutOff.push(...events.map((event) => event.id));
      }
    }
  };
  const clients = Array.from({ length: 4 }, client);

  // Kill once a good number of events are in and requests are certainly in flight.
  while (acknowledged.length < 400) await new Promise((resolve) => setTimeout(resolve, 50));
  const state = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { dynamoDbEndpoint: string };
  const exited = new Promise((resolve) => first.child.once('exit', resolve));
  killGroup(first.child);
  killed = true;
  await exited;
  await Promise.all(clients);
  expect(cutOff.length).toBeGreaterThan(0); // requests were in flight when it died
  expect(await portIsClosed(first.url)).toBe(true);
  // The JVM went with it (same process group), so nothing can have flushed after the kill.
  for (let i = 0; i < 50 && !(await portIsClosed(state.dynamoDbEndpoint)); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await portIsClosed(state.dynamoDbEndpoint)).toBe(true);

  const second = await start();
  const restarted = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { dynamoDbEndpoint: string; tableNames: Record<string, string> };
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(localAwsClientConfig(restarted.dynamoDbEndpoint)));
  try {
    const table = restarted.tableNames[EVENTS_TABLE.envVar]!;
    const found = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < acknowledged.length; i += 100) {
      let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = { [table]: { Keys: acknowledged.slice(i, i + 100).map((pk) => ({ pk })) } };
      while (request && Object.keys(request).length > 0) {
        const answer = await dynamo.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of answer.Responses?.[table] ?? []) found.set(item.pk as string, item);
        request = answer.UnprocessedKeys as typeof request;
      }
    }
    const missing = acknowledged.filter((id) => !found.has(id));
    expect(missing).toEqual([]);
    for (const id of acknowledged) expect(JSON.parse(found.get(id)!.doc as string)).toMatchObject({ id, type: 'crash.drill' });

    // And the restarted stack takes events again, including a retry of those that were cut off.
    const retry = cutOff.slice(0, 50).map((id) => ({ id, type: 'crash.drill', category: 'user_activity' }));
    const answer = await fetch(`${second.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ events: retry }),
    });
    expect(answer.status).toBe(200);
    const results = ((await answer.json()) as { results: { status: string }[] }).results;
    expect(results.every((result) => result.status === 'accepted' || result.status === 'duplicate')).toBe(true);
  } finally {
    dynamo.destroy();
    const stopped = new Promise((resolve) => second.child.once('exit', resolve));
    second.child.kill('SIGINT');
    await stopped;
  }
}, 240_000);
