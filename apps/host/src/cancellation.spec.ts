import { abortError, Cancellation } from './cancellation';

describe('Cancellation', () => {
  it('runs its listeners once, in order, on the first abort; a removed one never', () => {
    const c = new Cancellation();
    const calls: string[] = [];
    const removed = () => calls.push('removed');
    c.addEventListener('abort', () => calls.push('a'));
    c.addEventListener('abort', removed);
    c.addEventListener('abort', () => calls.push('b'));
    c.removeEventListener('abort', removed);
    expect(c.aborted).toBe(false);
    c.abort();
    c.abort();
    expect(c.aborted).toBe(true);
    expect(calls).toEqual(['a', 'b']);
  });

  it('never runs a listener added after the abort (as an AbortSignal)', () => {
    const c = new Cancellation();
    c.abort();
    const late = jest.fn();
    c.addEventListener('abort', late);
    c.abort();
    expect(late).not.toHaveBeenCalled();
  });

  it('fails a request with an AbortError, as node:http does', () => {
    expect(abortError()).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  });
});
