import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { DynamoAppKeyStore } from '../adapters/app-key-store';
import { appKeyMatches, parseAppKey } from '../core/app-keys';
import { header, logger } from '../shared/http';

const keys = new DynamoAppKeyStore();

/**
 * API Gateway REQUEST authorizer for app routes. API Gateway caches the
 * answer per key for the authorizer's TTL, so a revoked key stops working
 * within that TTL (see the README). Throwing "Unauthorized" makes API
 * Gateway answer 401 (no or malformed key); a Deny policy answers 403
 * (a well-formed key that is wrong or revoked).
 */
export async function authorizeAppKey(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const presented = parseAppKey(header(event, 'x-api-key'));
  if (!presented) throw new Error('Unauthorized');

  const record = await keys.get(presented.keyId);
  // Everything up to the stage: the cached answer must hold for every app route, not just the first one called.
  const resource = event.methodArn.split('/').slice(0, 2).join('/') + '/*';
  if (!record || !appKeyMatches(record, presented.secret)) {
    logger.warn('app key refused', { keyId: presented.keyId, reason: record ? (record.revokedAt ? 'revoked' : 'wrong secret') : 'unknown key' });
    return policy('denied', 'Deny', resource);
  }
  return policy(record.keyId, 'Allow', resource, {
    app: record.app,
    keyId: record.keyId,
    ...(record.rateLimit ? { rateLimit: record.rateLimit } : {}),
    captureClientIp: record.captureClientIp === true,
  });
}

function policy(principalId: string, effect: 'Allow' | 'Deny', resource: string, context?: Record<string, string | number | boolean>): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] },
    ...(context ? { context } : {}),
  };
}

export const handler = middy(authorizeAppKey).use(injectLambdaContext(logger, { resetKeys: true }));
