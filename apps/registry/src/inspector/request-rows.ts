import type { RecordedRequest } from '@app/contracts';
import type { ChatSummary } from '../chat/chat-exchange';
import { maskAddress } from './masked-address';

/** What every recorded request carries, however it ended. */
export interface RequestFacts {
  id: string;
  endpoint: string;
  /** The model asked for (as the host got it, after the owner's policy), if any. */
  model: unknown;
  keyId: string | null;
  ip: string;
  /** This node (where the caller is). */
  node: string;
  /** The `X-Request-Id` the caller saw. */
  requestId: string | null;
}

/** Longest model name kept: it is the caller's string. */
const MODEL_CHARS = 100;

/** The model as named, cut short; a cut one is copied, so the log does not hold the caller's whole string. */
function modelOf(model: unknown): string | null {
  if (typeof model !== 'string') return null;
  return model.length <= MODEL_CHARS ? model : Buffer.from(model.slice(0, MODEL_CHARS)).toString();
}

/** A caller gets 499 in this log when it left before any answer (nginx's "client closed request"). */
export const CALLER_LEFT_STATUS = 499;

function common(facts: RequestFacts, at: number) {
  return {
    id: facts.id,
    at,
    endpoint: facts.endpoint,
    model: modelOf(facts.model),
    key_id: facts.keyId,
    node: facts.node,
    caller: maskAddress(facts.ip),
    request_id: facts.requestId,
  };
}

/** A chat that was taken on and ended: answered, failed, or left by its caller. */
export function endedChat(
  facts: RequestFacts,
  summary: ChatSummary,
  servedBy: { node: string; replica: string } | undefined,
  at: number,
): RecordedRequest {
  const { outcome } = summary;
  const answered = outcome === 'completed';
  const left = outcome === 'caller_gone';
  return {
    ...common(facts, at),
    // Only a caller who left before the answer started got no status at all.
    status: summary.status ?? CALLER_LEFT_STATUS,
    code: answered ? null : outcome,
    outcome: answered ? 'answered' : left ? 'left' : 'failed',
    ttft_ms: summary.firstChunkMs === null ? null : Math.round(summary.firstChunkMs),
    duration_ms: Math.round(summary.durationMs),
    tokens_in: summary.promptTokens,
    tokens_out: summary.completionTokens,
    served_by_node: servedBy?.node ?? null,
    replica: servedBy?.replica ?? null,
  };
}

/** A chat the registry turned away before any host saw it (401, 403, 422, 429, 503…). */
export function refusedChat(
  facts: RequestFacts,
  refusal: { status: number; code: string | null },
  durationMs: number,
  at: number,
): RecordedRequest {
  return {
    ...common(facts, at),
    status: refusal.status,
    code: refusal.code,
    outcome: refusal.status >= 500 && refusal.status !== 503 ? 'failed' : 'refused',
    ttft_ms: null,
    duration_ms: Math.round(durationMs),
    tokens_in: 0,
    tokens_out: 0,
    served_by_node: null,
    replica: null,
  };
}
