/** OpenAI's own ceiling for `n`; tool calls per choice share it. */
export const MAX_ASSEMBLED_INDEX = 127;

interface ToolCallDraft {
  id?: string;
  type: string;
  function: { name: string; arguments: string };
}

interface ChoiceDraft {
  content: string;
  reasoning: string;
  sawContent: boolean;
  role: string;
  toolCalls: Map<number, ToolCallDraft>;
  finishReason: string | null;
}

/**
 * Builds one OpenAI `chat.completion` from the `chat.completion.chunk` stream a host sends,
 * for callers that asked for `stream: false` (hosts are always asked to stream). The host is a
 * stranger: the text it may pile up and the choice / tool-call indexes it may use are bounded.
 */
export class CompletionAssembler {
  private id = '';
  private model = '';
  private created = 0;
  private systemFingerprint: unknown;
  private usage: unknown = undefined;
  private readonly choices = new Map<number, ChoiceDraft>();
  /** Lines that were not JSON; counted, never fatal. */
  skipped = 0;
  /** Set once the host's answer broke a bound; the answer is then to be rejected (502), not sent. */
  failure: string | null = null;
  /** Text assembled so far (content, reasoning, tool-call names and arguments), in UTF-16 units ≈ bytes. */
  private size = 0;

  constructor(private readonly maxSize: number) {}

  add(line: string): void {
    if (this.failure !== null) return;
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.skipped++;
      return;
    }
    if (typeof chunk !== 'object' || chunk === null) return;
    if (typeof chunk.id === 'string' && !this.id) this.id = chunk.id;
    if (typeof chunk.model === 'string' && !this.model) this.model = chunk.model;
    if (typeof chunk.created === 'number' && !this.created) this.created = chunk.created;
    if (chunk.system_fingerprint !== undefined) this.systemFingerprint = chunk.system_fingerprint;
    if (chunk.usage) this.usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const raw of chunk.choices as unknown[])
      if (typeof raw === 'object' && raw !== null) this.addChoice(raw as Record<string, unknown>);
  }

  result(fallbackId: string): Record<string, unknown> {
    const choices = [...this.choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]) => {
        const message: Record<string, unknown> = {
          role: c.role,
          content: c.sawContent || c.toolCalls.size === 0 ? c.content : null,
        };
        if (c.reasoning) message.reasoning_content = c.reasoning;
        if (c.toolCalls.size)
          message.tool_calls = [...c.toolCalls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
        return { index, message, finish_reason: c.finishReason ?? 'stop', logprobs: null };
      });
    const completion: Record<string, unknown> = {
      id: this.id || fallbackId,
      object: 'chat.completion',
      created: this.created || Math.floor(Date.now() / 1000),
      model: this.model || 'unknown',
      choices,
    };
    if (this.systemFingerprint !== undefined) completion.system_fingerprint = this.systemFingerprint;
    if (this.usage !== undefined) completion.usage = this.usage;
    return completion;
  }

  private addChoice(raw: Record<string, unknown>): void {
    const index = typeof raw.index === 'number' ? raw.index : 0;
    if (!this.validIndex(index, 'choice')) return;
    let draft = this.choices.get(index);
    if (!draft) {
      draft = {
        content: '',
        reasoning: '',
        sawContent: false,
        role: 'assistant',
        toolCalls: new Map(),
        finishReason: null,
      };
      this.choices.set(index, draft);
    }
    if (typeof raw.finish_reason === 'string') draft.finishReason = raw.finish_reason;
    const delta = (raw.delta ?? raw.message) as Record<string, unknown> | undefined;
    if (!delta || typeof delta !== 'object') return;
    if (typeof delta.role === 'string') draft.role = delta.role;
    if (typeof delta.content === 'string' && this.grow(delta.content)) {
      draft.content += delta.content;
      draft.sawContent = true;
    }
    if (typeof delta.reasoning_content === 'string' && this.grow(delta.reasoning_content))
      draft.reasoning += delta.reasoning_content;
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as Array<Record<string, unknown>>) this.addToolCall(draft, call);
    }
  }

  private addToolCall(draft: ChoiceDraft, call: Record<string, unknown>): void {
    if (typeof call !== 'object' || call === null) return;
    const index = typeof call.index === 'number' ? call.index : draft.toolCalls.size;
    if (!this.validIndex(index, 'tool call')) return;
    const fn = (call.function ?? {}) as Record<string, unknown>;
    const name = typeof fn.name === 'string' ? fn.name : '';
    const args = typeof fn.arguments === 'string' ? fn.arguments : '';
    if (!this.grow(name) || !this.grow(args)) return;
    const existing = draft.toolCalls.get(index);
    if (!existing) {
      draft.toolCalls.set(index, {
        id: typeof call.id === 'string' ? call.id : undefined,
        type: typeof call.type === 'string' ? call.type : 'function',
        function: { name, arguments: args },
      });
      return;
    }
    if (typeof call.id === 'string') existing.id = call.id;
    existing.function.name += name;
    existing.function.arguments += args;
  }

  private validIndex(index: number, what: string): boolean {
    if (Number.isInteger(index) && index >= 0 && index <= MAX_ASSEMBLED_INDEX) return true;
    this.failure = `the model host sent a ${what} index outside 0..${MAX_ASSEMBLED_INDEX}: its answer cannot be assembled`;
    return false;
  }

  /** Accounts for `text` about to be appended; false (and a failure) past the limit. */
  private grow(text: string): boolean {
    this.size += text.length;
    if (this.size <= this.maxSize) return true;
    this.failure =
      `the answer is larger than the ${this.maxSize}-byte limit for a reply assembled into one JSON ` +
      `object; ask for it with "stream": true`;
    return false;
  }
}
