import { isUsageOnly, lastEventEnd, UsageChunkCutter, withoutUsageChunks } from './usage-chunk-cutter';

const base = '"id":"cmpl-1","object":"text_completion","created":1,"model":"m"';
const token = (text: string) =>
  `data: {${base},"choices":[{"text":"${text}","index":0,"logprobs":null,"finish_reason":null}]}\n\n`;
const stop = `data: {${base},"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"stop"}]}\n\n`;
const usageOnly = `data: {${base},"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n`;
const done = 'data: [DONE]\n\n';
const crlf = (s: string) => s.replace(/\n/g, '\r\n');

/** Feeds `pieces` to a cutter, then ends it: everything the caller is written. */
function cut(pieces: string[], maxHeld = 1024): { written: string; writes: string[] } {
  const cutter = new UsageChunkCutter(maxHeld);
  const writes = pieces.map((p) => cutter.push(p));
  writes.push(cutter.end());
  return { written: writes.join(''), writes };
}

/** Every way to split `text` in two, and in pieces of one character. */
const splits = (text: string) => [
  ...Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]),
  [...text],
];

describe('UsageChunkCutter', () => {
  const stream = token('Hello') + token(' world') + stop + usageOnly + done;
  const expected = token('Hello') + token(' world') + stop + done;

  it('cuts the usage-only event out, the other bytes as they came', () => {
    expect(cut([stream]).written).toBe(expected);
  });

  it('finds it wherever the body is split (events split across pieces)', () => {
    for (const pieces of splits(stream)) expect(cut(pieces).written).toBe(expected);
  });

  it('with CRLF line ends, split anywhere', () => {
    for (const pieces of splits(crlf(stream))) expect(cut(pieces).written).toBe(crlf(expected));
  });

  it('with CR line ends', () => {
    const cr = (s: string) => s.replace(/\n/g, '\r');
    for (const pieces of splits(cr(stream))) expect(cut(pieces).written).toBe(cr(expected));
  });

  it('keeps a chunk with usage and choices (servers that put usage on the last token chunk), and "usage":null', () => {
    const withChoices = `data: {${base},"choices":[{"text":"x","index":0}],"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n`;
    const nullUsage = `data: {${base},"choices":[],"usage":null}\n\n`;
    const body = token('a') + withChoices + nullUsage + done;
    expect(cut([body]).written).toBe(body);
    expect(withoutUsageChunks(body)).toBe(body); // the same string: nothing copied
  });

  it('cuts a spaced usage-only chunk (`"usage": {`) and one in several data lines', () => {
    const spaced = 'data: {"choices": [], "usage": {"prompt_tokens": 1}}\n\n';
    const multiLine = 'data: {"choices":[],\ndata: "usage":{"prompt_tokens":1}}\n\n';
    expect(cut([token('a'), spaced, multiLine, done]).written).toBe(token('a') + done);
  });

  it('writes whole events at once and holds only the event not yet ended', () => {
    const { writes } = cut([token('a') + 'data: {"id"', ':"x"}\n\n' + done]);
    expect(writes).toEqual([token('a'), 'data: {"id":"x"}\n\n' + done, '']);
  });

  it('writes what is held at the end (a body without its last blank line), less a usage-only chunk', () => {
    expect(cut([token('a'), 'data: [DONE]']).written).toBe(token('a') + 'data: [DONE]');
    expect(cut([token('a'), usageOnly.trimEnd()]).written).toBe(token('a'));
  });

  it('keeps events that are not JSON or mention usage in their text', () => {
    const body = 'data: {"choices":[],"usage":{\n\n' + token('\\"usage\\":{') + ': comment "usage":{\n\n';
    expect(cut([body]).written).toBe(body);
  });

  it('does not hold an event longer than its limit: writes it as it comes, then holds again', () => {
    const long = `data: {"choices":[{"text":"${'x'.repeat(100)}"}]}\n\n`;
    const { writes, written } = cut(
      [long.slice(0, 60), long.slice(60, 90), long.slice(90) + usageOnly, done],
      50,
    );
    expect(writes[0]).toBe(long.slice(0, 60));
    expect(writes[1]).toBe(long.slice(60, 90));
    expect(written).toBe(long + done);
  });
});

describe('lastEventEnd / isUsageOnly', () => {
  it('finds the last blank line in LF, CRLF and CR text; a CR at the end may be half a CRLF', () => {
    expect(lastEventEnd('data: 1\n\ndata: 2')).toBe(9);
    expect(lastEventEnd('data: 1\r\n\r\ndata: 2')).toBe(11);
    expect(lastEventEnd('data: 1\r\rdata: 2')).toBe(9);
    expect(lastEventEnd('data: 1\r\n\r')).toBe(0);
    expect(lastEventEnd('data: 1\r\r')).toBe(0);
    expect(lastEventEnd('data: 1')).toBe(0);
  });

  it('is a chunk with `choices: []` and a usage object', () => {
    expect(isUsageOnly(usageOnly)).toBe(true);
    expect(isUsageOnly('data:{"choices":[],"usage":{}}')).toBe(true);
    expect(isUsageOnly('data: {"choices":[{}],"usage":{}}')).toBe(false);
    expect(isUsageOnly('data: {"usage":{}}')).toBe(false);
    expect(isUsageOnly('data: {"choices":[],"usage":null}')).toBe(false);
    expect(isUsageOnly('data: [DONE]')).toBe(false);
  });
});
