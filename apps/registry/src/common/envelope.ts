import type { Envelope } from '@app/contracts';

export const ok = <T>(data: T, message = 'success'): Envelope<T> => ({ code: 0, message, data });

/** Errors carry the HTTP status as their non-zero code, so a client that only reads the body still learns it. */
export const failure = (status: number, message: string): Envelope<null> => ({
  code: status,
  message,
  data: null,
});
