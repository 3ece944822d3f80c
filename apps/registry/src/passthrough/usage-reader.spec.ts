import { UsageReader } from './usage-reader';
import { placeTokenCeiling } from './token-field';

describe('UsageReader', () => {
  it('reads embeddings and completions usage from a JSON answer sent in pieces', () => {
    const reader = new UsageReader(false, 1 << 20);
    const body = JSON.stringify({ data: [], usage: { prompt_tokens: 7, total_tokens: 7 } }, null, 2);
    reader.add(body.slice(0, 10));
    reader.add(body.slice(10));
    expect(reader.end()).toEqual({ prompt: 7, completion: 0 });
  });

  it("reads rerank's usage: llama.cpp's prompt_tokens, vLLM's lone total_tokens as prompt tokens", () => {
    const llama = new UsageReader(false, 1 << 20);
    llama.add(JSON.stringify({ results: [], usage: { prompt_tokens: 9, total_tokens: 9 } }));
    expect(llama.end()).toEqual({ prompt: 9, completion: 0 });
    const vllm = new UsageReader(false, 1 << 20);
    vllm.add(JSON.stringify({ id: 'rerank-1', results: [], usage: { total_tokens: 11 } }));
    expect(vllm.end()).toEqual({ prompt: 11, completion: 0 });
    // A total beside a completion count is not all prompt: it is not read as such.
    const chat = new UsageReader(false, 1 << 20);
    chat.add(JSON.stringify({ usage: { completion_tokens: 3, total_tokens: 10 } }));
    expect(chat.end()).toEqual({ prompt: 0, completion: 3 });
  });

  it("reads Anthropic's stream: input from message_start, the running output total from message_delta", () => {
    const reader = new UsageReader(true, 1 << 20);
    reader.add(
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":12,"output_tokens":1}}}\n\n',
    );
    reader.add('event: message_delta\ndata: {"type":"message_delta","usage":{"output_tok');
    reader.add('ens":30}}\n\n');
    expect(reader.end()).toEqual({ prompt: 12, completion: 30 });
  });

  it("reads the Responses stream's response.completed usage", () => {
    const reader = new UsageReader(true, 1 << 20);
    reader.add(
      'event: response.completed\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":3,"output_tokens":4}}}\n\n',
    );
    expect(reader.end()).toEqual({ prompt: 3, completion: 4 });
  });

  it('keeps no more than its limit of a JSON answer (the usage of a larger one is not read)', () => {
    const reader = new UsageReader(false, 16);
    reader.add('{"usage":{"prompt_tokens":5},"data":"' + 'x'.repeat(100) + '"}');
    expect(reader.end()).toEqual({ prompt: 0, completion: 0 });
  });
});

describe('placeTokenCeiling', () => {
  it('moves the ceiling to max_output_tokens for Responses and removes it from embeddings', () => {
    const responses: Record<string, unknown> = { input: 'x', max_tokens: 64 };
    placeTokenCeiling('responses', responses, { input: 'x' });
    expect(responses).toEqual({ input: 'x', max_output_tokens: 64 });
    const embeddings: Record<string, unknown> = { input: 'x', max_tokens: 64 };
    placeTokenCeiling('embeddings', embeddings, { input: 'x' });
    expect(embeddings).toEqual({ input: 'x' });
    const messages: Record<string, unknown> = { messages: [], max_tokens: 64 };
    const rerank: Record<string, unknown> = { query: 'q', documents: ['d'], max_tokens: 64 };
    placeTokenCeiling('rerank', rerank, { query: 'q', documents: ['d'] });
    expect(rerank).toEqual({ query: 'q', documents: ['d'] });
    placeTokenCeiling('messages', messages, { messages: [] });
    expect(messages).toEqual({ messages: [], max_tokens: 64 });
  });
});
