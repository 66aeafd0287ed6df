import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Principal } from '../core/access';
import type { AdminRequest } from '../core/admin-audit';
import { header } from './http';

/** Who made an admin request and from where, for the `admin.*` event it leads to. */
export function adminRequestOf(event: APIGatewayProxyEvent, principal: Principal): AdminRequest {
  const sourceIp = event.requestContext?.identity?.sourceIp;
  const userAgent = header(event, 'user-agent');
  return {
    principal,
    ...(event.requestContext?.requestId ? { requestId: event.requestContext.requestId } : {}),
    ...(sourceIp ? { sourceIp } : {}),
    ...(userAgent ? { userAgent } : {}),
    at: new Date(event.requestContext?.requestTimeEpoch || Date.now()),
  };
}
