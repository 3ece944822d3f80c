import type { ChatRequestBody } from '@app/protocol';

/**
 * A chunk that carries generated text (content, reasoning or tool-call arguments, not empty):
 * OpenAI-compatible servers (Ollama, llama.cpp, vLLM) stream one token per such chunk, so each
 * counts one token until the model's own usage, if it sends one, says otherwise. The other
 * endpoints' streams too: completions' `text`, Responses' `delta`, Anthropic's `text_delta`
 * (`text`), `thinking_delta` and `input_json_delta` (`partial_json`). A relayed endpoint's piece
 * may hold several events (one upstream read): it counts one, and the model's usage settles it.
 */
const GENERATED =
  /"(?:content|reasoning_content|reasoning|arguments|text|delta|thinking|partial_json)": ?"[^"]/;

export const carriesTokens = (line: string): boolean => GENERATED.test(line);

/** About four characters a token (OpenAI's rule of thumb), at least one: what a prompt is charged until the model counts it. */
export function estimatePromptTokens(messages: ChatRequestBody['messages'] | undefined): number {
  let chars = 0;
  // Other endpoints (embeddings, completions, ...) have no messages: charged at least one until counted.
  for (const message of messages ?? []) {
    const content: unknown = message.content;
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content))
      for (const part of content as unknown[]) {
        const text = (part as { text?: unknown } | null)?.text;
        if (typeof text === 'string') chars += text.length;
      }
  }
  return Math.max(1, Math.ceil(chars / 4));
}
