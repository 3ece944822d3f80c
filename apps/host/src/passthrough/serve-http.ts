import {
  endpointOfPath,
  type HttpRequestFrame,
  type HttpResponseFrame,
  type PassthroughEndpoint,
} from '@app/protocol';
import { describeUpstreamError, type Upstream } from '../upstream';
import type { Abortable } from '../cancellation';
import type { RequestPolicy } from '../request-policy';
import { applyEndpointPolicy } from './endpoint-policy';
import { multipartBody } from './multipart-body';

export interface HttpFrameSink {
  send(frame: HttpResponseFrame): unknown;
}

export type HttpOutcome = { kind: 'done' } | { kind: 'error'; message: string } | { kind: 'aborted' };

/** Where each path goes: below the `/v1` base, except Anthropic's, which servers serve from their root. */
export const upstreamPath = (path: HttpRequestFrame['path']) =>
  path === 'v1/messages' ? '/v1/messages' : path;

/**
 * Serves one `http_request`: the owner's policy on the body, one POST upstream, then its status,
 * content type and body back as the model server wrote them (text, in order). An upstream that
 * cannot be reached, or a body that breaks off, ends with `error` (before the head the registry
 * may send the request to another replica).
 */
export async function serveHttp(options: {
  frame: HttpRequestFrame;
  upstream: Upstream;
  policy: RequestPolicy;
  /** The endpoints this agent serves (--endpoints); a request for another is refused. */
  served: readonly PassthroughEndpoint[];
  sink: HttpFrameSink;
  signal: Abortable;
}): Promise<HttpOutcome> {
  const { frame, upstream, sink, signal } = options;
  const request_id = frame.request_id;
  const endpoint = endpointOfPath(frame.path);
  // The registry sends only what the hello announced; anything else is refused, never relayed.
  if (endpoint === undefined || !options.served.includes(endpoint)) {
    const message = `path ${frame.path} is not served by this agent (see --endpoints)`;
    sink.send({ type: 'http_response_end', request_id, error: message });
    return { kind: 'error', message };
  }
  const { body } = applyEndpointPolicy(endpoint, frame.body, options.policy);
  try {
    // A multipart request (with its file) goes as multipart again; every other as JSON.
    const encoded = frame.upload
      ? await multipartBody(body, frame.upload)
      : { body: JSON.stringify(body), contentType: 'application/json' };
    const headers = { 'Content-Type': encoded.contentType, ...frame.headers };
    const res = await upstream.post(upstreamPath(frame.path), headers, encoded.body, signal);
    sink.send({ type: 'http_response_head', request_id, status: res.status, content_type: res.contentType });
    await new Promise<void>((resolve, reject) => {
      // Decoded as UTF-8 across reads: a character split between two reads is sent whole.
      res.body.setEncoding('utf8');
      res.body.on('data', (data: string) => sink.send({ type: 'http_response_body', request_id, data }));
      res.body.on('end', resolve);
      res.body.on('error', reject);
      res.body.on('close', () => {
        if (!res.body.readableEnded) reject(new Error('the model server closed the connection mid-answer'));
      });
    });
    sink.send({ type: 'http_response_end', request_id });
    return { kind: 'done' };
  } catch (error) {
    if (signal.aborted) return { kind: 'aborted' };
    const message = describeUpstreamError(error);
    sink.send({ type: 'http_response_end', request_id, error: `upstream: ${message}` });
    return { kind: 'error', message };
  }
}
