import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-body';

const MAX_DEPTH = 32;
// NUL cannot be stored in PostgreSQL text; unpaired surrogates are not valid Unicode text.
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be refused
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A value still to look at, and how it was reached (its path is spelled out only for a problem). */
interface Pending {
  value: unknown;
  depth: number;
  parent: Pending | null;
  key: string;
}

/** `body.messages.0.content`: the path of a value, built from its parents. */
function pathOf(item: Pending): string {
  const keys: string[] = [];
  for (let at: Pending | null = item; at !== null; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.');
}

/**
 * Finds the first problem in a parsed JSON body, walking it without recursion. Every request with a
 * body passes here (every chat), so nothing is built for a value without a problem: its path is
 * spelled out only when one is found.
 */
export function findBodyProblem(body: unknown): string | null {
  const stack: Pending[] = [{ value: body, depth: 0, parent: null, key: 'body' }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const { value, depth } = item;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value))
        return `${pathOf(item)}: text must not contain NUL characters or unpaired surrogates`;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DEPTH) return `${pathOf(item)}: nested more than ${MAX_DEPTH} levels deep`;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (UNSTORABLE.test(key))
        return `${pathOf(item)}: keys must not contain NUL characters or unpaired surrogates`;
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, parent: item, key });
    }
  }
  return null;
}

/**
 * Fastify preValidation hook: refuses bodies that would overflow validators or the database, with a
 * 422. Callback style, not async: a body without a problem goes on without a promise and a microtask.
 */
export function bodyGuard(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const problem = request.body === undefined || request.body === null ? null : findBodyProblem(request.body);
  if (!problem) return done();
  // Answered here: the route's handler does not run (a hook that sends does not call done).
  void reply.status(422).send(errorBody(request.url, 422, problem, 'invalid_body', 'body'));
}
