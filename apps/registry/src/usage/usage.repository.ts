import { Injectable } from '@nestjs/common';
import type { EndpointUsage, Granularity, UsageEndpoint, UsagePeriod } from '@app/contracts';
import { Prisma } from '../database/generated/client';
import { PrismaService } from '../database/prisma.service';

/**
 * The statuses of chats refused before they reach a host that usage counts: no or a bad key (401),
 * a model not allowed (403), invalid parameters (422), over a limit (429), no host or node (503).
 */
export const REFUSED_STATUSES = [401, 403, 422, 429, 503] as const;
export type RefusedStatus = (typeof REFUSED_STATUSES)[number];
export type RefusedCounts = Record<RefusedStatus, number>;
export const noRefusals = (): RefusedCounts => ({ 401: 0, 403: 0, 422: 0, 429: 0, 503: 0 });

/** One aggregated row: calls of one instance, key ('' = no key) and endpoint in one minute. */
export interface UsageRow {
  instanceId: string;
  keyId: string;
  minute: Date;
  endpoint: UsageEndpoint;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  ttftMsSum: number;
  ttftCount: number;
  /** Refused chats, apart from `requests`. */
  refused: RefusedCounts;
}

/** What one usage answer sums: [from, to), every key or one, every endpoint or one. */
export interface UsageWindow {
  from: Date;
  to: Date;
  keyId?: string;
  endpoint?: UsageEndpoint;
}

/** The sums every usage read selects (as SUMS names them). */
interface Sums {
  requests: bigint;
  errors: bigint;
  prompt: bigint;
  completion: bigint;
  r401: bigint;
  r403: bigint;
  r422: bigint;
  r429: bigint;
  r503: bigint;
}

const SUMS = Prisma.sql`
  SUM(requests)::bigint AS requests, SUM(errors)::bigint AS errors,
  SUM(prompt_tokens)::bigint AS prompt, SUM(completion_tokens)::bigint AS completion,
  SUM(refused_401)::bigint AS r401, SUM(refused_403)::bigint AS r403, SUM(refused_422)::bigint AS r422,
  SUM(refused_429)::bigint AS r429, SUM(refused_503)::bigint AS r503`;

function where(instanceId: string, { from, to, keyId, endpoint }: UsageWindow): Prisma.Sql {
  return Prisma.sql`
    WHERE instance_id = ${instanceId}
      AND minute >= ${from.toISOString()}::timestamp(3) AND minute < ${to.toISOString()}::timestamp(3)
      ${keyId === undefined ? Prisma.empty : Prisma.sql`AND key_id = ${keyId}`}
      ${endpoint === undefined ? Prisma.empty : Prisma.sql`AND endpoint = ${endpoint}`}`;
}

function totals(r: Sums): EndpointUsage {
  return {
    requests: Number(r.requests),
    errors: Number(r.errors),
    prompt_tokens: Number(r.prompt),
    completion_tokens: Number(r.completion),
    refused: {
      401: Number(r.r401),
      403: Number(r.r403),
      422: Number(r.r422),
      429: Number(r.r429),
      503: Number(r.r503),
    },
  };
}

/** Usage per minute: added to in batches (one statement per flush), read summed per period. */
@Injectable()
export class UsageRepository {
  constructor(private readonly prisma: PrismaService) {}

  async add(rows: UsageRow[]): Promise<void> {
    if (rows.length === 0) return;
    const col = <K extends keyof UsageRow>(k: K) => rows.map((r) => r[k]);
    const refused = (status: RefusedStatus) => rows.map((r) => r.refused[status]);
    await this.prisma.$executeRaw`
      INSERT INTO usage_minutes AS u
             (instance_id, key_id, minute, endpoint, requests, errors, prompt_tokens, completion_tokens, ttft_ms_sum, ttft_count,
              refused_401, refused_403, refused_422, refused_429, refused_503)
      SELECT * FROM UNNEST(${col('instanceId')}::text[], ${col('keyId')}::text[],
                           ${rows.map((r) => r.minute.toISOString())}::timestamp(3)[], ${col('endpoint')}::text[],
                           ${col('requests')}::int[], ${col('errors')}::int[],
                           ${col('promptTokens')}::bigint[], ${col('completionTokens')}::bigint[],
                           ${col('ttftMsSum')}::float8[], ${col('ttftCount')}::int[],
                           ${refused(401)}::int[], ${refused(403)}::int[], ${refused(422)}::int[],
                           ${refused(429)}::int[], ${refused(503)}::int[])
      ON CONFLICT (instance_id, key_id, minute, endpoint) DO UPDATE SET
        requests = u.requests + EXCLUDED.requests,
        errors = u.errors + EXCLUDED.errors,
        prompt_tokens = u.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = u.completion_tokens + EXCLUDED.completion_tokens,
        ttft_ms_sum = u.ttft_ms_sum + EXCLUDED.ttft_ms_sum,
        ttft_count = u.ttft_count + EXCLUDED.ttft_count,
        refused_401 = u.refused_401 + EXCLUDED.refused_401,
        refused_403 = u.refused_403 + EXCLUDED.refused_403,
        refused_422 = u.refused_422 + EXCLUDED.refused_422,
        refused_429 = u.refused_429 + EXCLUDED.refused_429,
        refused_503 = u.refused_503 + EXCLUDED.refused_503`;
  }

  /** `last_used_at` of the keys used since the last flush, in one statement. */
  async markKeysUsed(lastUsed: ReadonlyMap<string, Date>): Promise<void> {
    if (lastUsed.size === 0) return;
    const ids = [...lastUsed.keys()];
    const times = ids.map((id) => lastUsed.get(id)!.toISOString());
    await this.prisma.$executeRaw`
      UPDATE access_keys AS k
         SET last_used_at = GREATEST(COALESCE(k.last_used_at, v.at), v.at)
        FROM UNNEST(${ids}::text[], ${times}::timestamp(3)[]) AS v(id, at)
       WHERE k.id = v.id`;
  }

  async keyExists(instanceId: string, keyId: string): Promise<boolean> {
    const row = await this.prisma.accessKey.findFirst({
      where: { id: keyId, instanceId },
      select: { id: true },
    });
    return row !== null;
  }

  /** Periods with at least one call or refusal in [from, to), oldest first. */
  async periods(instanceId: string, window: UsageWindow, granularity: Granularity): Promise<UsagePeriod[]> {
    const rows = await this.prisma.$queryRaw<
      Array<Sums & { start: string; ttft_sum: number | null; ttft_count: bigint }>
    >`
      SELECT to_char(date_trunc(${granularity}, minute), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS start, ${SUMS},
             SUM(ttft_ms_sum)::float8 AS ttft_sum, SUM(ttft_count)::bigint AS ttft_count
        FROM usage_minutes ${where(instanceId, window)}
       GROUP BY 1 ORDER BY 1`;
    return rows.map((r) => ({
      start: r.start,
      ...totals(r),
      avg_ttft_ms: Number(r.ttft_count) > 0 ? Math.round((r.ttft_sum ?? 0) / Number(r.ttft_count)) : null,
    }));
  }

  /** The window's totals per endpoint that had a call or refusal in it. */
  async byEndpoint(
    instanceId: string,
    window: UsageWindow,
  ): Promise<Partial<Record<UsageEndpoint, EndpointUsage>>> {
    const rows = await this.prisma.$queryRaw<Array<Sums & { endpoint: UsageEndpoint }>>`
      SELECT endpoint, ${SUMS} FROM usage_minutes ${where(instanceId, window)} GROUP BY 1 ORDER BY 1`;
    return Object.fromEntries(rows.map((r) => [r.endpoint, totals(r)]));
  }

  /** Prompt + completion tokens of a key since `since` (what tokens_per_day reads). */
  async tokensSince(keyId: string, since: Date): Promise<number> {
    const [row] = await this.prisma.$queryRaw<Array<{ used: bigint | null }>>`
      SELECT SUM(prompt_tokens + completion_tokens)::bigint AS used
        FROM usage_minutes WHERE key_id = ${keyId} AND minute >= ${since.toISOString()}::timestamp(3)`;
    return Number(row?.used ?? 0);
  }

  /**
   * Deletes up to `batch` minutes before `before` (the `minute` index finds them); answers how
   * many. Rows another node is deleting are skipped, so nodes running this at once share the work.
   */
  purge(before: Date, batch: number): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM usage_minutes WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM usage_minutes WHERE minute < ${before.toISOString()}::timestamp(3)
         LIMIT ${batch} FOR UPDATE SKIP LOCKED))`;
  }
}
