/**
 * Builds one OpenAI `chat.completion` from the `chat.completion.chunk` stream a host sends,
 * for callers that asked for `stream: false` (hosts are always asked to stream).
 */
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
  toolCalls: ToolCallDraft[];
  finishReason: string | null;
}

export class CompletionAssembler {
  private id = '';
  private model = '';
  private created = 0;
  private systemFingerprint: unknown;
  private usage: unknown = undefined;
  private readonly choices = new Map<number, ChoiceDraft>();
  /** Lines that were not JSON; counted, never fatal. */
  skipped = 0;

  add(line: string): void {
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
    for (const raw of chunk.choices as Array<Record<string, unknown>>) this.addChoice(raw);
  }

  result(fallbackId: string): Record<string, unknown> {
    const choices = [...this.choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]) => {
        const message: Record<string, unknown> = {
          role: c.role,
          content: c.sawContent || c.toolCalls.length === 0 ? c.content : null,
        };
        if (c.reasoning) message.reasoning_content = c.reasoning;
        if (c.toolCalls.length) message.tool_calls = c.toolCalls.filter(Boolean);
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
    let draft = this.choices.get(index);
    if (!draft) {
      draft = {
        content: '',
        reasoning: '',
        sawContent: false,
        role: 'assistant',
        toolCalls: [],
        finishReason: null,
      };
      this.choices.set(index, draft);
    }
    if (typeof raw.finish_reason === 'string') draft.finishReason = raw.finish_reason;
    const delta = (raw.delta ?? raw.message) as Record<string, unknown> | undefined;
    if (!delta || typeof delta !== 'object') return;
    if (typeof delta.role === 'string') draft.role = delta.role;
    if (typeof delta.content === 'string') {
      draft.content += delta.content;
      draft.sawContent = true;
    }
    if (typeof delta.reasoning_content === 'string') draft.reasoning += delta.reasoning_content;
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as Array<Record<string, unknown>>) this.addToolCall(draft, call);
    }
  }

  private addToolCall(draft: ChoiceDraft, call: Record<string, unknown>): void {
    const index = typeof call.index === 'number' ? call.index : draft.toolCalls.length;
    const fn = (call.function ?? {}) as Record<string, unknown>;
    const existing = draft.toolCalls[index];
    if (!existing) {
      draft.toolCalls[index] = {
        id: typeof call.id === 'string' ? call.id : undefined,
        type: typeof call.type === 'string' ? call.type : 'function',
        function: {
          name: typeof fn.name === 'string' ? fn.name : '',
          arguments: typeof fn.arguments === 'string' ? fn.arguments : '',
        },
      };
      return;
    }
    if (typeof call.id === 'string') existing.id = call.id;
    if (typeof fn.name === 'string') existing.function.name += fn.name;
    if (typeof fn.arguments === 'string') existing.function.arguments += fn.arguments;
  }
}
