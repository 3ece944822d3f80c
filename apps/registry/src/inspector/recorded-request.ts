import { REQUEST_OUTCOMES, type RecordedRequest } from '@app/contracts';

const isString = (v: unknown): v is string => typeof v === 'string';
const orNull = (check: (v: unknown) => boolean) => (v: unknown) => v === null || check(v);
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** Every field of a RecordedRequest and its check: another node's rows are read through this. */
const FIELDS: Record<Exclude<keyof RecordedRequest, 'captured'>, (v: unknown) => boolean> = {
  id: isString,
  at: isNumber,
  endpoint: isString,
  model: orNull(isString),
  key_id: orNull(isString),
  status: (v) => Number.isInteger(v),
  code: orNull(isString),
  outcome: (v) => (REQUEST_OUTCOMES as readonly unknown[]).includes(v),
  ttft_ms: orNull(isNumber),
  duration_ms: isNumber,
  tokens_in: isNumber,
  tokens_out: isNumber,
  node: isString,
  served_by_node: orNull(isString),
  replica: orNull(isString),
  caller: isString,
  request_id: orNull(isString),
};
const NAMES = Object.keys(FIELDS) as (keyof typeof FIELDS)[];

/** A row as another node sent it, with only the known fields; null (dropped) if one is wrong. */
export function decodeRecordedRequest(value: unknown): RecordedRequest | null {
  if (typeof value !== 'object' || value === null) return null;
  const row = value as Record<string, unknown>;
  const decoded: Record<string, unknown> = {};
  for (const name of NAMES) {
    if (!FIELDS[name](row[name])) return null;
    decoded[name] = row[name];
  }
  // Optional: a node from before body capture sends none.
  if (row.captured === true) decoded.captured = true;
  return decoded as unknown as RecordedRequest;
}
