/**
 * The query API as the screens use it: JSON in and out, the signed-in user's bearer token on every request,
 * and the API's error envelope (`{ error: { code, message }, errors?: [{ path, message }] }`) as an ApiError.
 */

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors: readonly FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type QueryParams = Record<string, string | number | boolean | undefined | null>;

interface ApiSettings {
  baseUrl: string;
  token: () => string | undefined;
  /** A 401: the token expired or was revoked; the shell signs out. */
  onUnauthorized: () => void;
}

let settings: ApiSettings = { baseUrl: '', token: () => undefined, onUnauthorized: () => undefined };

export function configureApi(next: ApiSettings): void {
  settings = { ...next, baseUrl: next.baseUrl.replace(/\/+$/, '') };
}

/** `/v1/events` + `{ severity: 'error', userId: undefined }` → `/v1/events?severity=error` (empty values left out). */
export function withQuery(path: string, params: QueryParams = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = settings.token();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${settings.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, 'network', 'The audit trail API cannot be reached. Check your connection and try again.');
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const envelope = (json ?? {}) as { error?: { code?: string; message?: string }; errors?: FieldError[]; message?: string };
    if (response.status === 401) settings.onUnauthorized();
    throw new ApiError(
      response.status,
      envelope.error?.code ?? `http_${response.status}`,
      envelope.error?.message ?? envelope.message ?? `${method} ${path} answered ${response.status}`,
      Array.isArray(envelope.errors) ? envelope.errors : [],
    );
  }
  return json as T;
}

export const api = {
  get: <T>(path: string, params?: QueryParams, signal?: AbortSignal) => request<T>('GET', withQuery(path, params), undefined, signal),
  post: <T>(path: string, body: unknown) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** A message for a person, whatever was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.status === 403 ? 'Your role may not do this.' : error.message;
  return error instanceof Error ? error.message : String(error);
}
