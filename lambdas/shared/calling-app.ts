import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ClientError } from '../core/errors';

export interface CallingApp {
  /** The app's name, stamped as `source` on its events. */
  source: string;
  /** Events per second the app may post. */
  rateLimit: number;
  /** Whether the caller's address and user agent may be recorded (browser apps). */
  captureClientIp: boolean;
}

/** What the app-key authorizer found out about the caller (API Gateway passes its context as strings). */
export function callingApp(event: APIGatewayProxyEvent, fallbackRateLimit: number): CallingApp {
  const context = event.requestContext.authorizer ?? {};
  if (typeof context.app !== 'string' || context.app === '') {
    // Only reachable if the route were deployed without its authorizer.
    throw new ClientError(401, 'unauthorized', 'an app key is required');
  }
  return {
    source: context.app,
    rateLimit: Number(context.rateLimit) || fallbackRateLimit,
    captureClientIp: String(context.captureClientIp) === 'true',
  };
}
