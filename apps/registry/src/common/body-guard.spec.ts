import { findBodyProblem } from './body-guard';

describe('findBodyProblem', () => {
  it('accepts ordinary bodies, including emoji (paired surrogates)', () => {
    expect(
      findBodyProblem({ messages: [{ role: 'user', content: 'hi 👋' }], metadata: { a: [1, { b: 'c' }] } }),
    ).toBeNull();
  });

  it('refuses deep nesting without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(findBodyProblem({ upload_name: deep })).toMatch(/nested more than 32/);
  });

  it('refuses NUL and lone surrogates, in values and keys', () => {
    expect(findBodyProblem({ upload_name: 'a\u0000b' })).toMatch(/body.upload_name/);
    expect(findBodyProblem({ upload_name: 'a\uD800' })).toMatch(/unpaired/);
    expect(findBodyProblem({ ['k\uDC00']: 1 })).toMatch(/keys/);
  });

  it('names the path of the problem, through arrays and objects', () => {
    expect(findBodyProblem({ messages: [{ content: 'ok' }, { role: 'user', content: 'a\u0000' }] })).toBe(
      'body.messages.1.content: text must not contain NUL characters or unpaired surrogates',
    );
    expect(findBodyProblem({ a: { ['b\uD800']: 1 } })).toBe(
      'body.a: keys must not contain NUL characters or unpaired surrogates',
    );
  });
});
