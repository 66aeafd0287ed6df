import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ClientError, badRequest } from '../core/errors';
import { bodyText, header } from './http';

/** Admin request bodies are small; anything bigger is a mistake. */
const MAX_BODY_BYTES = 64 * 1024;

/** The request's JSON body, or a 4xx that says what is wrong with it (never quoting it: it may hold a secret). */
export function jsonBody(event: APIGatewayProxyEvent): unknown {
  const contentType = header(event, 'content-type');
  if (!contentType || !/^application\/(.+\+)?json\b/i.test(contentType.trim())) {
    throw new ClientError(415, 'unsupported_media_type', 'send JSON with content-type: application/json');
  }
  const text = bodyText(event);
  if (!text || text.trim() === '') throw badRequest('empty_body', 'the request body is empty');
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw new ClientError(413, 'payload_too_large', `the request body is over ${MAX_BODY_BYTES} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('invalid_json', 'the body is not valid JSON');
  }
}
