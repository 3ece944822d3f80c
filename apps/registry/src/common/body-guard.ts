import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-body';

const MAX_DEPTH = 32;
// NUL cannot be stored in PostgreSQL text; unpaired surrogates are not valid Unicode text.
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be refused
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Finds the first problem in a parsed JSON body, walking it without recursion. */
export function findBodyProblem(body: unknown): string | null {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [
    { value: body, depth: 0, path: 'body' },
  ];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value))
        return `${path}: text must not contain NUL characters or unpaired surrogates`;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DEPTH) return `${path}: nested more than ${MAX_DEPTH} levels deep`;
    for (const [key, child] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) return `${path}: keys must not contain NUL characters or unpaired surrogates`;
      stack.push({ value: child, depth: depth + 1, path: `${path}.${key}` });
    }
  }
  return null;
}

/** Fastify preValidation hook: refuses bodies that would overflow validators or the database, with a 422. */
export async function bodyGuard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.body === undefined || request.body === null) return;
  const problem = findBodyProblem(request.body);
  if (!problem) return;
  await reply.status(422).send(errorBody(request.url, 422, problem, 'invalid_body', 'body'));
}
