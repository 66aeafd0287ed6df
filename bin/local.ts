import { checkJava } from '../local/dynamodb-local';
import { localOptionsFromEnv, startLocalStack } from '../local/stack';

/** `npm start`: the whole system on this machine, until Ctrl-C. */
async function main(): Promise<void> {
  const java = checkJava();
  if (!java.ok) {
    console.error(java.message);
    process.exit(1);
  }
  const options = localOptionsFromEnv();
  console.log(`Starting the local stack (data in ${options.dataDir})…`);
  const stack = await startLocalStack(options);

  console.log(`
Audit trail is running at ${stack.url}  (Ctrl-C stops it; data stays in ${stack.dataDir})

  Admin SPA   ${stack.url}/#token=<token>   (a token: npm run -s token -- --role admin)
  Sample data npm run seed
  Health      curl ${stack.url}/v1/health
  Send        curl -X POST ${stack.url}/v1/events -H 'content-type: application/json' \\
                -H 'x-api-key: ${options.ingestApiKey}' -d '{"type":"user.login.failed","actor":{"userId":"u-42"}}'
  Read        curl ${stack.url}/v1/events/<id> -H "authorization: Bearer $(npm run -s token -- --role viewer)"
`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await stack.stop();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
