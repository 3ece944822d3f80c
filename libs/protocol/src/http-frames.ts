/**
 * The general request frames (our extension, advertised in `hello` as `capabilities.endpoints`):
 * the model server's endpoints other than chat, relayed as the model server answered them.
 *
 *   registry -> host  http_request        {request_id, method, path, headers, body}
 *   host -> registry  http_response_head  {request_id, status, content_type}
 *   host -> registry  http_response_body  {request_id, data}   (body text, in order, any number)
 *   host -> registry  http_response_end   {request_id, error?} (the body ended, or failed)
 *
 * `cancel` stops one as it stops a chat. Bodies travel as UTF-8 text in JSON (every endpoint here
 * answers JSON or an event stream). A multipart request (`audio/transcriptions`) travels as its text
 * fields in `body` and its file in `upload`, the bytes in base64 (see docs/protocol.md for why).
 */

/** Endpoints the registry relays besides chat, and the path the host is asked for. */
export const ENDPOINT_PATHS = {
  embeddings: 'embeddings',
  completions: 'completions',
  responses: 'responses',
  messages: 'v1/messages',
  rerank: 'rerank',
  transcriptions: 'audio/transcriptions',
} as const;

export type PassthroughEndpoint = keyof typeof ENDPOINT_PATHS;
export type PassthroughPath = (typeof ENDPOINT_PATHS)[PassthroughEndpoint];

export const PASSTHROUGH_ENDPOINTS = Object.keys(ENDPOINT_PATHS) as PassthroughEndpoint[];

/** The endpoint a path names, if it is one the frames may carry (the allow-list). */
export function endpointOfPath(path: unknown): PassthroughEndpoint | undefined {
  return PASSTHROUGH_ENDPOINTS.find((endpoint) => ENDPOINT_PATHS[endpoint] === path);
}

/** The only request headers that travel (the rest, credentials included, stay at the registry). */
export const FORWARDED_HEADERS = ['accept', 'anthropic-version', 'anthropic-beta'] as const;
/** Longest forwarded header value. */
export const MAX_HEADER_CHARS = 256;

/** The endpoints whose request is multipart: text fields in `body`, the file in `upload`. */
export const UPLOAD_ENDPOINTS: readonly PassthroughEndpoint[] = ['transcriptions'];

/**
 * Largest file an upload may carry, whatever BODY_LIMIT_BYTES says: its base64 (4/3 of it, 21.4 MiB)
 * must fit a WebSocket frame the agent accepts (64 MiB) and a Redis pub/sub message between nodes
 * well under Redis' default hard limit for a subscriber's output buffer (32 MB).
 */
export const MAX_UPLOAD_BYTES = 16 * 1024 * 1024;
export const MAX_UPLOAD_BASE64_CHARS = Math.ceil(MAX_UPLOAD_BYTES / 3) * 4;

/** The file of a multipart request, as it travels (frame and cluster message alike). */
export interface HttpUpload {
  /** The form field it came in (`file`). */
  field: string;
  /** Its file name as the caller sent it (control characters removed, at most MAX_HEADER_CHARS). */
  filename: string;
  content_type: string;
  /** The bytes, base64. */
  data: string;
}

/** The request as routing carries it: what is sent besides the body. */
export interface HttpTarget {
  endpoint: PassthroughEndpoint;
  headers: Record<string, string>;
  /** The file of a multipart request (UPLOAD_ENDPOINTS only). */
  upload?: HttpUpload;
}

export interface HttpRequestFrame {
  type: 'http_request';
  request_id: string;
  method: 'POST';
  path: PassthroughPath;
  headers: Record<string, string>;
  /** The JSON body, or a multipart request's text fields (a repeated field as an array). */
  body: Record<string, unknown>;
  /** A multipart request's file: present exactly when the path is one of UPLOAD_ENDPOINTS'. */
  upload?: HttpUpload;
}

export interface HttpResponseHeadFrame {
  type: 'http_response_head';
  request_id: string;
  status: number;
  content_type: string;
}

export interface HttpResponseBodyFrame {
  type: 'http_response_body';
  request_id: string;
  data: string;
}

export interface HttpResponseEndFrame {
  type: 'http_response_end';
  request_id: string;
  /** Set when the request failed (upstream unreachable, or the body broke off). */
  error?: string;
}

export type HttpResponseFrame = HttpResponseHeadFrame | HttpResponseBodyFrame | HttpResponseEndFrame;

/** The headers that may travel, as sent (names lower-cased, values cut to MAX_HEADER_CHARS). */
export function forwardedHeaders(source: Record<string, unknown>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = source[name];
    if (typeof value === 'string' && value !== '') headers[name] = value.slice(0, MAX_HEADER_CHARS);
  }
  return headers;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// eslint-disable-next-line no-control-regex -- control characters are what is removed
const CONTROL = /[\u0000-\u001f\u007f]/g;
const text = (v: unknown) => (isString(v) ? v.replace(CONTROL, '').slice(0, MAX_HEADER_CHARS) : '');

/** An upload as sent; null when it is not one or its data is over MAX_UPLOAD_BASE64_CHARS. */
export function readUpload(value: unknown): HttpUpload | null {
  if (!isObject(value) || !isString(value.data) || value.data.length > MAX_UPLOAD_BASE64_CHARS) return null;
  const field = text(value.field);
  if (field === '') return null;
  return { field, filename: text(value.filename), content_type: text(value.content_type), data: value.data };
}

/** The upload an endpoint must carry (and no other may): undefined when none, null when it breaks that. */
function uploadFor(endpoint: PassthroughEndpoint, value: unknown): HttpUpload | undefined | null {
  if (!UPLOAD_ENDPOINTS.includes(endpoint)) return value === undefined ? undefined : null;
  return readUpload(value);
}

/** Checks an `http_request` a registry sent; null when it breaks the allow-lists. */
export function checkHttpRequest(obj: Record<string, unknown>): HttpRequestFrame | null {
  if (!isString(obj.request_id) || obj.method !== 'POST' || !isObject(obj.body)) return null;
  const endpoint = endpointOfPath(obj.path);
  if (endpoint === undefined) return null;
  const upload = uploadFor(endpoint, obj.upload);
  if (upload === null) return null;
  const headers = isObject(obj.headers) ? forwardedHeaders(obj.headers) : {};
  return {
    type: 'http_request',
    request_id: obj.request_id,
    method: 'POST',
    path: obj.path as PassthroughPath,
    headers,
    body: obj.body,
    ...(upload && { upload }),
  };
}

/** Checks a response frame a host sent; null when a field has the wrong type. */
export function checkHttpResponse(obj: Record<string, unknown>): HttpResponseFrame | null {
  if (!isString(obj.request_id)) return null;
  switch (obj.type) {
    case 'http_response_head':
      if (!Number.isInteger(obj.status) || (obj.status as number) < 100 || (obj.status as number) > 599)
        return null;
      return {
        type: 'http_response_head',
        request_id: obj.request_id,
        status: obj.status as number,
        content_type: isString(obj.content_type) ? obj.content_type.slice(0, MAX_HEADER_CHARS) : '',
      };
    case 'http_response_body':
      return isString(obj.data)
        ? { type: 'http_response_body', request_id: obj.request_id, data: obj.data }
        : null;
    case 'http_response_end':
      if (obj.error !== undefined && obj.error !== null && !isString(obj.error)) return null;
      return {
        type: 'http_response_end',
        request_id: obj.request_id,
        ...(isString(obj.error) && { error: obj.error }),
      };
    default:
      return null;
  }
}

/** The endpoints a `hello` announces, known ones only. */
export function announcedEndpoints(value: unknown): PassthroughEndpoint[] {
  if (!Array.isArray(value)) return [];
  return PASSTHROUGH_ENDPOINTS.filter((endpoint) => value.includes(endpoint));
}

/** An HttpTarget another node sent; null when it is not one. */
export function readHttpTarget(value: unknown): HttpTarget | null {
  if (!isObject(value) || typeof value.endpoint !== 'string') return null;
  if (!Object.hasOwn(ENDPOINT_PATHS, value.endpoint)) return null;
  const endpoint = value.endpoint as PassthroughEndpoint;
  const upload = uploadFor(endpoint, value.upload);
  if (upload === null) return null;
  return {
    endpoint,
    headers: isObject(value.headers) ? forwardedHeaders(value.headers) : {},
    ...(upload && { upload }),
  };
}
