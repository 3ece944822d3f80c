/**
 * The fake model's endpoints besides chat, in the shapes the real servers (Ollama's /v1, vLLM,
 * llama.cpp) and the official SDKs use:
 *
 *   POST /v1/embeddings   {input, encoding_format?}  -> list of embeddings (float or base64), usage.prompt_tokens
 *   POST /v1/completions  {prompt, stream?}          -> text_completion (SSE with [DONE] when streamed)
 *   POST /v1/responses    {input, stream?}           -> response (named SSE events when streamed)
 *   POST /v1/messages     {messages, stream?}        -> Anthropic message (Anthropic's event stream when streamed)
 *   POST /v1/rerank       {query, documents, top_n?} -> vLLM's rerank: results by relevance, usage.total_tokens only
 *
 * Answers are the words given, one per streamed event; usage counts them.
 */
import type { ServerResponse } from 'node:http';

export const ENDPOINT_PATHS = [
  '/v1/embeddings',
  '/v1/completions',
  '/v1/responses',
  '/v1/messages',
  '/v1/rerank',
  '/v1/audio/transcriptions',
];

type Body = Record<string, unknown>;

const textOf = (v: unknown): string =>
  typeof v === 'string' ? v : Array.isArray(v) ? v.map(textOf).join(' ') : JSON.stringify(v ?? '');
const tokensOf = (v: unknown) => Math.max(1, Math.ceil(textOf(v).length / 4));

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** How far a streamed answer got: events written so far (for the fake model's abort records). */
export interface StreamProgress {
  sent: number;
}

/** Writes `events` one per `delayMs` (all at once for 0). */
export function streamEvents(
  res: ServerResponse,
  events: string[],
  delayMs: number,
  progress?: StreamProgress,
): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  if (delayMs === 0) {
    if (progress) progress.sent = events.length;
    return void res.end(events.join(''));
  }
  let i = 0;
  const step = () => {
    if (res.destroyed) return;
    if (progress) progress.sent = i + 1;
    if (i < events.length - 1) {
      res.write(events[i++]);
      setTimeout(step, delayMs);
    } else res.end(events[i]);
  };
  step();
}

const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const named = (type: string, value: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...value })}\n\n`;

/** A deterministic vector per input text. */
function vector(text: string, dims = 8): number[] {
  return Array.from(
    { length: dims },
    (_, i) => ((text.charCodeAt(i % Math.max(1, text.length)) || 0) % 17) / 17,
  );
}

/** How much of the query's words a document holds, 0..1 (a tie goes to the earlier document). */
function relevance(query: string, document: string): number {
  const wordsOf = (text: string) => text.toLowerCase().split(/\W+/).filter(Boolean);
  const words = wordsOf(query);
  const held = new Set(wordsOf(document));
  return words.length === 0 ? 0 : words.filter((w) => held.has(w)).length / words.length;
}

/** vLLM's answer (llama.cpp's adds `usage.prompt_tokens` and leaves out `document`). */
function rerank(res: ServerResponse, body: Body, model: string): void {
  const query = textOf(body.query);
  const documents = Array.isArray(body.documents) ? body.documents.map(textOf) : [];
  const topN = typeof body.top_n === 'number' ? body.top_n : documents.length;
  const results = documents
    .map((text, index) => ({ index, document: { text }, relevance_score: relevance(query, text) }))
    .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
    .slice(0, topN);
  json(res, 200, {
    id: `rerank-fake-${Date.now()}`,
    model,
    usage: { total_tokens: tokensOf(query) + documents.reduce((n, d) => n + tokensOf(d), 0) },
    results,
  });
}

export function answerEndpoint(
  res: ServerResponse,
  path: string,
  body: Body,
  words: string[],
  model: string,
  delayMs: number,
  progress?: StreamProgress,
): void {
  const created = Math.floor(Date.now() / 1000);
  const output = words.join('');
  const completion = words.length;
  switch (path) {
    case '/v1/rerank':
      return rerank(res, body, model);
    case '/v1/embeddings': {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const base64 = body.encoding_format === 'base64';
      return json(res, 200, {
        object: 'list',
        model,
        data: inputs.map((input, index) => {
          const v = vector(textOf(input));
          return {
            object: 'embedding',
            index,
            embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v,
          };
        }),
        usage: { prompt_tokens: tokensOf(body.input), total_tokens: tokensOf(body.input) },
      });
    }
    case '/v1/completions': {
      const prompt = tokensOf(body.prompt);
      const usage = {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
      };
      const base = { id: `cmpl-fake-${created}`, object: 'text_completion', created, model };
      if (body.stream !== true)
        return json(res, 200, {
          ...base,
          choices: [{ text: output, index: 0, logprobs: null, finish_reason: 'stop' }],
          usage,
        });
      const events = words.map((text) =>
        data({ ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: null }] }),
      );
      events.push(
        data({ ...base, choices: [{ text: '', index: 0, logprobs: null, finish_reason: 'stop' }] }),
      );
      if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage)
        events.push(data({ ...base, choices: [], usage }));
      events.push('data: [DONE]\n\n');
      return streamEvents(res, events, delayMs, progress);
    }
    case '/v1/responses': {
      const input = tokensOf(body.input);
      const item = {
        type: 'message',
        id: 'msg_fake',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: output, annotations: [] }],
      };
      const response = (status: string, extra: Record<string, unknown>) => ({
        id: 'resp_fake',
        object: 'response',
        created_at: created,
        status,
        model,
        ...extra,
      });
      const usage = { input_tokens: input, output_tokens: completion, total_tokens: input + completion };
      if (body.stream !== true) return json(res, 200, response('completed', { output: [item], usage }));
      let seq = 0;
      const events = [
        named('response.created', {
          sequence_number: seq++,
          response: response('in_progress', { output: [] }),
        }),
      ];
      for (const delta of words)
        events.push(
          named('response.output_text.delta', {
            sequence_number: seq++,
            item_id: 'msg_fake',
            output_index: 0,
            content_index: 0,
            delta,
          }),
        );
      events.push(
        named('response.completed', {
          sequence_number: seq,
          response: response('completed', { output: [item], usage }),
        }),
      );
      return streamEvents(res, events, delayMs, progress);
    }
    case '/v1/messages': {
      const input = tokensOf(body.messages);
      const message = (content: unknown[], stop: string | null, outputTokens: number) => ({
        id: 'msg_fake',
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: { input_tokens: input, output_tokens: outputTokens },
      });
      if (body.stream !== true)
        return json(res, 200, message([{ type: 'text', text: output }], 'end_turn', completion));
      const events = [
        named('message_start', { message: message([], null, 1) }),
        named('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        ...words.map((text) =>
          named('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
        ),
        named('content_block_stop', { index: 0 }),
        named('message_delta', {
          delta: { stop_reason: 'end_turn', stop_sequence: null },
          usage: { output_tokens: completion },
        }),
        named('message_stop', {}),
      ];
      return streamEvents(res, events, delayMs, progress);
    }
  }
}
