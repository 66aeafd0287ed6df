/**
 * An error a client caused and can fix, with the HTTP status and the stable
 * code it is reported under. Anything else that escapes a handler is a 500
 * whose details stay in the logs.
 */
export class ClientError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

export const badRequest = (code: string, message: string) => new ClientError(400, code, message);
