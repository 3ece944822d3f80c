import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ENDPOINT_PATHS,
  MAX_HEADER_CHARS,
  MAX_UPLOAD_BYTES,
  type HttpUpload,
  type PassthroughEndpoint,
} from '@app/protocol';
import { ApiError } from '../common/http-errors';

/** The route that takes multipart bodies (the only one). */
export const UPLOAD_ROUTE = '/api/chat/:instanceId/audio/transcriptions';
/** The form field that carries the file. */
export const FILE_FIELD = 'file';
/** Text fields a multipart body may have, and the longest value each may be. */
export const MAX_FIELDS = 64;
export const MAX_FIELD_CHARS = 16 * 1024;
/**
 * The largest multipart body read, below BODY_LIMIT_BYTES when that is larger: the largest file,
 * and room for the fields (64 x 16 K characters, up to 4 bytes each in UTF-8) and part headers.
 */
export const MAX_MULTIPART_BYTES = MAX_UPLOAD_BYTES + 4 * 1024 * 1024 + 64 * 1024;

/** A parsed multipart body: its text fields (a repeated one as an array) and its file, in base64. */
export interface MultipartBody {
  fields: Record<string, string | string[]>;
  upload: HttpUpload;
  /** Bytes held for it while it is in flight: the base64 and the fields. */
  heldBytes: number;
}

/**
 * Where a parsed multipart body is kept on the request body: under a symbol, so the JSON body
 * checks (body-guard) walk the text fields only, never the file's megabytes of base64.
 */
export const MULTIPART = Symbol('multipart');

/** A client error for Fastify's error path (the exception filter keeps its status and code). */
function clientError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { statusCode, code });
}

// eslint-disable-next-line no-control-regex -- control characters are what is removed
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * Parses a multipart/form-data body (undici's FormData parser, built into Node): every text
 * field, and exactly one file under `file`. Throws a 415/422/413 client error naming the problem.
 */
export async function readMultipart(body: Buffer, contentType: string): Promise<MultipartBody> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw clientError(
      422,
      'invalid_multipart',
      'the body is not valid multipart/form-data (check the boundary in Content-Type)',
    );
  }
  const fields = Object.create(null) as Record<string, string | string[]>;
  let file: File | undefined;
  let count = 0;
  let heldBytes = 0;
  for (const [name, value] of form) {
    if (typeof value !== 'string') {
      if (name !== FILE_FIELD || file !== undefined)
        throw clientError(
          422,
          'invalid_multipart',
          `only one file may be sent, in the '${FILE_FIELD}' field`,
        );
      file = value;
      continue;
    }
    if (++count > MAX_FIELDS)
      throw clientError(422, 'invalid_multipart', `more than ${MAX_FIELDS} form fields`);
    if (value.length > MAX_FIELD_CHARS)
      throw clientError(
        422,
        'invalid_multipart',
        `form field '${name}' is over ${MAX_FIELD_CHARS} characters`,
      );
    heldBytes += name.length + value.length;
    const previous = fields[name];
    fields[name] = previous === undefined ? value : [previous, value].flat();
  }
  if (file === undefined)
    throw clientError(422, 'missing_file', `the '${FILE_FIELD}' field (the audio file) is missing`);
  if (file.size > MAX_UPLOAD_BYTES)
    throw clientError(413, 'file_too_large', `the file is over ${MAX_UPLOAD_BYTES} bytes`);
  const data = Buffer.from(await file.arrayBuffer()).toString('base64');
  heldBytes += data.length;
  const upload: HttpUpload = {
    field: FILE_FIELD,
    filename: file.name.replace(CONTROL, '').slice(0, MAX_HEADER_CHARS),
    content_type: file.type.slice(0, MAX_HEADER_CHARS),
    data,
  };
  return { fields, upload, heldBytes };
}

/** A multipart endpoint called with another body: 415 naming what it takes. */
export function notMultipart(endpoint: PassthroughEndpoint): ApiError {
  return new ApiError(
    415,
    `${ENDPOINT_PATHS[endpoint]} takes multipart/form-data, with the audio in a '${FILE_FIELD}' field`,
    { code: 'unsupported_media_type' },
  );
}

/** The request as the owner's body capture keeps it: the fields, and the file named, not its bytes. */
export function capturedRequest(body: Record<string, unknown>, multipart: MultipartBody | undefined): string {
  if (!multipart) return JSON.stringify(body);
  const { filename, content_type, data } = multipart.upload;
  const bytes = Math.floor((data.length * 3) / 4) - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);
  return JSON.stringify({ ...body, [FILE_FIELD]: { filename, content_type, bytes } });
}

/** The multipart body a request carries, if the parser below read one. */
export function multipartOf(body: unknown): MultipartBody | undefined {
  return typeof body === 'object' && body !== null
    ? (body as { [MULTIPART]?: MultipartBody })[MULTIPART]
    : undefined;
}

/**
 * Takes multipart/form-data on UPLOAD_ROUTE only (within the app's body limit, and never more than
 * MAX_MULTIPART_BYTES: 413 beyond); elsewhere it stays the 415 it was. The request body becomes
 * the text fields, the parsed whole kept under MULTIPART.
 */
export function registerMultipartParser(fastify: FastifyInstance, bodyLimitBytes: number): void {
  fastify.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit: Math.min(bodyLimitBytes, MAX_MULTIPART_BYTES) },
    (request: FastifyRequest, body: Buffer | string, done: (err: Error | null, body?: unknown) => void) => {
      if (request.routeOptions.url !== UPLOAD_ROUTE) {
        done(
          clientError(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type: multipart/form-data'),
        );
        return;
      }
      readMultipart(body as Buffer, String(request.headers['content-type'])).then(
        (parsed) => done(null, { ...parsed.fields, [MULTIPART]: parsed }),
        (error: Error) => done(error),
      );
    },
  );
}
