/**
 * The fake model's `POST /v1/audio/transcriptions` (multipart/form-data, the audio in `file`), in
 * OpenAI's shapes: `json` (default) `{text, usage}`, `verbose_json`, `text`, `srt`, `vtt`, and with
 * `stream=true` an event stream of `transcript.text.delta` then `transcript.text.done` with usage.
 * The text says what arrived: "heard <size> bytes of <filename> (<type>) with <model>".
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export const TRANSCRIPTIONS_PATH = '/v1/audio/transcriptions';

/** What the fake model records of a multipart body: its text fields, and the file described. */
export interface FormBody {
  [field: string]: unknown;
  file?: { name: string; type: string; size: number; sha256: string };
}

/** Parses a multipart body (Node's own FormData parser); null when it is not one. */
export async function readFormBody(raw: Buffer, contentType: string): Promise<FormBody | null> {
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) return null;
  try {
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    const body: FormBody = {};
    for (const [name, value] of form) {
      if (typeof value === 'string') {
        const previous = body[name];
        body[name] = previous === undefined ? value : [previous, value].flat();
        continue;
      }
      const bytes = Buffer.from(await value.arrayBuffer());
      body[name] = {
        name: value.name,
        type: value.type,
        size: value.size,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      };
    }
    return body;
  } catch {
    return null;
  }
}

const timestamp = (seconds: number, comma: boolean) => {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const sep = comma ? ',' : '.';
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${sep}${pad(ms % 1000, 3)}`;
};

/** Answers a transcription; `send` writes JSON, `stream` writes SSE events (the fake model's own). */
export function answerTranscription(
  res: ServerResponse,
  body: FormBody,
  model: string,
  writeStream: (events: string[]) => void,
): void {
  const file = body.file;
  if (!file) {
    const text = JSON.stringify({
      error: {
        message: "the 'file' field is missing",
        type: 'invalid_request_error',
        param: 'file',
        code: null,
      },
    });
    res.writeHead(400, { 'Content-Type': 'application/json' });
    return void res.end(text);
  }
  const text = `heard ${file.size} bytes of ${file.name} (${file.type || 'no type'}) with ${model}`;
  const words = text.split(' ');
  const seconds = Math.max(1, Math.round(file.size / 16_000));
  const usage = {
    type: 'tokens',
    input_tokens: Math.max(1, Math.ceil(file.size / 1000)),
    input_token_details: { text_tokens: 0, audio_tokens: Math.max(1, Math.ceil(file.size / 1000)) },
    output_tokens: words.length,
    total_tokens: Math.max(1, Math.ceil(file.size / 1000)) + words.length,
  };
  if (body.stream === 'true') {
    const events = words.map(
      (word, i) =>
        `data: ${JSON.stringify({ type: 'transcript.text.delta', delta: i === 0 ? word : ` ${word}` })}\n\n`,
    );
    events.push(`data: ${JSON.stringify({ type: 'transcript.text.done', text, usage })}\n\n`);
    return writeStream(events);
  }
  const plain = (contentType: string, value: string) => {
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(value) });
    res.end(value);
  };
  switch (body.response_format) {
    case 'text':
      return plain('text/plain; charset=utf-8', `${text}\n`);
    case 'srt':
      return plain(
        'text/plain; charset=utf-8',
        `1\n${timestamp(0, true)} --> ${timestamp(seconds, true)}\n${text}\n\n`,
      );
    case 'vtt':
      return plain(
        'text/vtt; charset=utf-8',
        `WEBVTT\n\n${timestamp(0, false)} --> ${timestamp(seconds, false)}\n${text}\n\n`,
      );
    case 'verbose_json':
      return plain(
        'application/json',
        JSON.stringify({
          task: 'transcribe',
          language: 'english',
          duration: seconds,
          text,
          segments: [{ id: 0, start: 0, end: seconds, text }],
          usage: { type: 'duration', seconds },
        }),
      );
    default:
      return plain('application/json', JSON.stringify({ text, usage }));
  }
}
