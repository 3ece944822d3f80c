import { canonicalEvents, isDone, SseLineParser } from './sse-parser';

describe('SseLineParser', () => {
  it('returns the payload of each complete data line', () => {
    const p = new SseLineParser();
    expect(p.push('data: {"a":1}\n\ndata: {"b":2}\n\n')).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('keeps a line split across reads until its end arrives', () => {
    const p = new SseLineParser();
    expect(p.push('data: {"con')).toEqual([]);
    expect(p.push('tent":"hel')).toEqual([]);
    expect(p.push('lo"}\n')).toEqual(['{"content":"hello"}']);
    expect(p.push('\ndata: [DO')).toEqual([]);
    expect(p.push('NE]\n\n')).toEqual(['[DONE]']);
  });

  it('handles a split inside the "data:" prefix and between \\r and \\n', () => {
    const p = new SseLineParser();
    expect(p.push('da')).toEqual([]);
    expect(p.push('ta: x\r')).toEqual([]);
    expect(p.push('\n\r\ndata:y\r\n')).toEqual(['x', 'y']);
  });

  it('gives the same lines however the body is cut', () => {
    const body =
      'data: {"i":1}\n\n: keepalive\n\nevent: message\ndata: {"i":2}\r\n\r\ndata:{"i":3}\n\ndata: [DONE]\n\n';
    const expected = ['{"i":1}', '{"i":2}', '{"i":3}', '[DONE]'];
    for (let cut = 0; cut <= body.length; cut++) {
      for (const size of [1, 2, 7]) {
        const p = new SseLineParser();
        const out = [...p.push(body.slice(0, cut))];
        for (let i = cut; i < body.length; i += size) out.push(...p.push(body.slice(i, i + size)));
        out.push(...p.end());
        expect(out).toEqual(expected);
      }
    }
  });

  it('skips comments, event/id/retry fields and blank lines', () => {
    const p = new SseLineParser();
    expect(p.push(': ping\nevent: x\nid: 4\nretry: 100\n\n\ndata: ok\n')).toEqual(['ok']);
  });

  it('strips only one space after "data:" and keeps empty payloads', () => {
    const p = new SseLineParser();
    expect(p.push('data:  two\ndata:\ndata: \n')).toEqual([' two', '', '']);
  });

  it('strips a leading byte order mark', () => {
    const p = new SseLineParser();
    expect(p.push('\ufeffdata: a\n')).toEqual(['a']);
  });

  it('end() returns a last line that had no newline', () => {
    const p = new SseLineParser();
    expect(p.push('data: a\ndata: [DONE]')).toEqual(['a']);
    expect(p.end()).toEqual(['[DONE]']);
    expect(p.end()).toEqual([]);
  });

  it('isDone recognises the end marker', () => {
    expect(isDone('[DONE]')).toBe(true);
    expect(isDone(' [DONE] ')).toBe(true);
    expect(isDone('{"content":"[DONE]"}')).toBe(false);
  });
});

describe('canonicalEvents', () => {
  const of = (text: string) => canonicalEvents(Buffer.from(text));

  it('takes whole `data: …\\n\\n` events up to [DONE], counting them', () => {
    expect(of('data: {"a":1}\n\ndata: {"b":2}\n\n')).toEqual({ end: 30, count: 2, done: false });
    expect(of('data: 1\n\ndata: [DONE]\n\ndata: 2\n\n')).toEqual({ end: 9, count: 1, done: true });
    expect(of('data: [DONE]\n\n')).toEqual({ end: 0, count: 0, done: true });
    expect(of('data:  [DONE] \n\n')).toEqual({ end: 0, count: 0, done: true });
    expect(of('')).toEqual({ end: 0, count: 0, done: false });
    expect(of('data: [1,2]\n\n')).toEqual({ end: 13, count: 1, done: false });
  });

  it('leaves every other shape to the parser', () => {
    for (const text of [
      'data: {"a":1}', // no end
      'data: {"a":1}\n', // one newline (the event may go on)
      'data: {"a":1}\ndata: {"b":2}\n\n', // events one newline apart
      'data: {"a":1}\r\n\r\n', // CRLF
      'data:{"a":1}\n\n', // no space
      ': keepalive\n\ndata: 1\n\n', // a comment
      'event: x\ndata: 1\n\n', // an event name
      '\ufeffdata: 1\n\n', // a BOM
      'data: \n\n', // an empty payload
      'data: 1\n\ndata: 2', // a whole event, then a partial one
    ])
      expect(of(text)).toBeNull();
  });
});
