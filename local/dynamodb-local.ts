/**
 * DynamoDB Local (AWS's own emulator, a Java program) run as a child process.
 *
 * The jar ships with the `amplify-dynamodb-simulator` package; we only borrow
 * its files and start the JVM ourselves so that we control the flags, the
 * data directory and the lifetime of the process.
 *
 * Host binding: DynamoDB Local has no host/bind option (its CLI offers
 * -port, -dbPath, -inMemory, -sharedDb, -cors, -delayTransientStatuses,
 * -disableTelemetry, -optimizeDbBeforeStartup; the server is built with
 * Jetty's `new Server(port)`), so it listens on every interface. We always
 * talk to it through 127.0.0.1 and use a random free port by default.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export const LOCAL_REGION = 'local';
/** Any non-empty pair works with -sharedDb; one fixed pair keeps every local client alike. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export const MIN_JAVA_MAJOR = 17;
export const JAVA_MISSING_MESSAGE =
  'DynamoDB Local needs Java 17 or newer: install it (Debian/Ubuntu: `sudo apt-get install -y openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) and run again.';

export const DYNAMODB_LOCAL_START_TIMEOUT_MS = 30_000;
export const DYNAMODB_LOCAL_STOP_GRACE_MS = 5_000;
const READY_POLL_MS = 150;
const STDERR_TAIL_LINES = 30;

/** Client settings for any AWS SDK v3 client talking to a local endpoint. */
export function localAwsClientConfig(endpoint: string): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return { endpoint, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } };
}

/** `$JAVA_HOME/bin/java` when JAVA_HOME points at a JDK/JRE, else `java` from PATH. */
function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  if (home) {
    const candidate = path.join(home, 'bin', process.platform === 'win32' ? 'java.exe' : 'java');
    if (existsSync(candidate)) return candidate;
  }
  return 'java';
}

/** Parses the major version out of `java -version` output ("17.0.15", "1.8.0_422", "21"). */
function javaMajor(version: string): number {
  const [first, second] = version.split(/[._+-]/);
  const major = Number(first);
  return major === 1 ? Number(second) : major;
}

export function checkJava(): { ok: true; version: string } | { ok: false; message: string } {
  const result = spawnSync(javaCommand(), ['-version'], { encoding: 'utf8', timeout: 15_000 });
  if (result.error || result.status !== 0) return { ok: false, message: JAVA_MISSING_MESSAGE };
  // `java -version` prints to stderr: openjdk version "17.0.15" 2025-04-15
  const output = `${result.stderr ?? ''}\n${result.stdout ?? ''}`;
  const version = /version "([^"]+)"/.exec(output)?.[1] ?? /\b(\d+(?:\.\d+)*)\b/.exec(output)?.[1];
  if (!version) return { ok: false, message: JAVA_MISSING_MESSAGE };
  if (!(javaMajor(version) >= MIN_JAVA_MAJOR)) {
    return { ok: false, message: `Found Java ${version}, which is too old. ${JAVA_MISSING_MESSAGE}` };
  }
  return { ok: true, version };
}

/** Where the DynamoDB Local jar and its native libraries live. */
export function dynamoDbLocalFiles(): { jar: string; libDir: string } {
  const pkg = require.resolve('amplify-dynamodb-simulator/package.json');
  const emulator = path.join(path.dirname(pkg), 'emulator');
  const jar = path.join(emulator, 'DynamoDBLocal.jar');
  const libDir = path.join(emulator, 'DynamoDBLocal_lib');
  if (!existsSync(jar)) {
    throw new Error(`DynamoDB Local jar not found at ${jar}: run \`npm install\` again.`);
  }
  return { jar, libDir };
}

/** A port that is free on 127.0.0.1 right now (the OS picks it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

/** DynamoDB Local binds every interface, so check the port there, not just on loopback. */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`DynamoDB Local: port ${port} is already in use; choose another port or stop what is using it.`)
          : err,
      ),
    );
    server.listen(port, () => server.close(() => resolve()));
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export async function startDynamoDbLocal(opts: {
  dataDir: string;
  port?: number;
  inMemory?: boolean;
  log?: (line: string) => void;
}): Promise<DynamoDbLocal> {
  const java = checkJava();
  if (!java.ok) throw new Error(java.message);
  const files = dynamoDbLocalFiles();

  const dbPath = path.resolve(opts.dataDir, 'dynamodb');
  if (!opts.inMemory) mkdirSync(dbPath, { recursive: true });

  if (opts.port !== undefined) return launch(opts.port);
  // A port picked at random can be taken between the check and the JVM's bind: retry a few times.
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      return await launch(port);
    } catch (err) {
      if (!(err instanceof PortInUseError) || attempt >= 3) throw err;
    }
  }

  async function launch(port: number): Promise<DynamoDbLocal> {
    await assertPortFree(port);
    const args = [
      `-Djava.library.path=${files.libDir}`,
      '-jar',
      files.jar,
      '-port',
      String(port),
      '-sharedDb',
      // No phoning home from a developer's machine or CI.
      '-disableTelemetry',
      ...(opts.inMemory ? ['-inMemory'] : ['-dbPath', dbPath]),
    ];
    const child = spawn(javaCommand(), args, {
      cwd: path.dirname(files.jar),
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const tail: string[] = [];
    const onLine = (line: string) => {
      if (!line.trim()) return;
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      opts.log?.(line);
    };
    pipeLines(child.stdout, onLine);
    pipeLines(child.stderr, onLine);

    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    const exitPromise = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exited = { code, signal };
        resolve();
      });
      child.once('error', (err) => {
        spawnError = err;
        if (child.exitCode === null && child.pid === undefined) {
          exited = { code: null, signal: null };
          resolve();
        }
      });
    });

    // The JVM must not outlive us. 'exit' handlers can only do synchronous work; kill() is.
    const killOnExit = () => {
      if (!exited) child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);

    const stop = async () => {
      process.removeListener('exit', killOnExit);
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, DYNAMODB_LOCAL_STOP_GRACE_MS);
      await exitPromise;
      clearTimeout(timer);
    };

    const client = new DynamoDBClient({ ...localAwsClientConfig(endpoint), maxAttempts: 1 });
    const started = Date.now();
    try {
      for (;;) {
        if (exited || spawnError) {
          const output = tail.join('\n');
          if (/address already in use|failed to bind/i.test(output)) throw new PortInUseError(port, output);
          throw new Error(
            `DynamoDB Local exited before it was ready (${spawnError?.message ?? `code ${exited?.code}, signal ${exited?.signal}`}).` +
              (output ? `\nLast output:\n${output}` : ''),
          );
        }
        if (Date.now() - started > DYNAMODB_LOCAL_START_TIMEOUT_MS) {
          throw new Error(
            `DynamoDB Local did not answer on ${endpoint} within ${DYNAMODB_LOCAL_START_TIMEOUT_MS / 1000} s.` +
              (tail.length ? `\nLast output:\n${tail.join('\n')}` : ' It printed nothing.'),
          );
        }
        try {
          await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
          break;
        } catch {
          await sleep(READY_POLL_MS);
        }
      }
    } catch (err) {
      await stop();
      throw err;
    } finally {
      client.destroy();
    }
    opts.log?.(`DynamoDB Local ready on ${endpoint} after ${Date.now() - started} ms`);
    return { endpoint, port, stop };
  }
}

class PortInUseError extends Error {
  constructor(port: number, output: string) {
    super(`DynamoDB Local could not bind port ${port}.\nLast output:\n${output}`);
  }
}

function pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? '';
    lines.forEach(onLine);
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
    pending = '';
  });
}

