/** The Second Me response envelope: clients treat only HTTP 200 with `code == 0` as success. */
export interface Envelope<T> {
  code: number;
  message: string;
  data: T | null;
}

export const ok = <T>(data: T, message = 'success'): Envelope<T> => ({ code: 0, message, data });

/** Errors carry the HTTP status as their non-zero code, so a client that only reads the body still learns it. */
export const failure = (status: number, message: string): Envelope<null> => ({
  code: status,
  message,
  data: null,
});
