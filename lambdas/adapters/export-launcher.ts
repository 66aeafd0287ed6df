import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ExportLauncher } from '../core/exports';

/** The export function's name; the exports construct (and the local stack) set it. */
export const EXPORT_FUNCTION_NAME_ENV = 'EXPORT_FUNCTION_NAME';

/**
 * Starts the export function with Lambda's asynchronous invocation
 * (InvocationType Event): Lambda queues the event and answers 202 at once,
 * so the API answers in milliseconds however long the export takes. The
 * local stack serves the same Invoke API (local/lambda-invoke.ts) and runs
 * the same handler in the background.
 */
export class LambdaExportLauncher implements ExportLauncher {
  constructor(
    private readonly client: LambdaClient = new LambdaClient({}),
    private readonly functionName: string | undefined = process.env[EXPORT_FUNCTION_NAME_ENV],
  ) {}

  async start(exportId: string): Promise<void> {
    if (!this.functionName) throw new Error(`${EXPORT_FUNCTION_NAME_ENV} is not set`);
    const { StatusCode } = await this.client.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ exportId })) }),
    );
    if (StatusCode !== 202) throw new Error(`Lambda answered ${StatusCode} to an asynchronous invocation`);
  }
}
