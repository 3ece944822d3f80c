import { askForStreamUsage } from './stream-usage';

/** The host body after `askForStreamUsage`, and whether the usage chunk is to be cut. */
function ask(endpoint: Parameters<typeof askForStreamUsage>[0], raw: Record<string, unknown>) {
  const hostBody = { ...raw };
  const strip = askForStreamUsage(endpoint, hostBody, raw);
  return { strip, streamOptions: hostBody.stream_options };
}

describe('askForStreamUsage', () => {
  it('asks the model for usage on a streamed completion, keeping the caller’s other stream options', () => {
    expect(ask('completions', { prompt: 'x', stream: true })).toEqual({
      strip: true,
      streamOptions: { include_usage: true },
    });
    expect(ask('completions', { stream: true, stream_options: { include_obfuscation: false } })).toEqual({
      strip: true,
      streamOptions: { include_obfuscation: false, include_usage: true },
    });
    expect(ask('completions', { stream: true, stream_options: { include_usage: false } })).toEqual({
      strip: true,
      streamOptions: { include_usage: true },
    });
    expect(ask('completions', { stream: true, stream_options: null })).toEqual({
      strip: true,
      streamOptions: { include_usage: true },
    });
  });

  it('leaves the body as sent when the caller asked, did not stream, or sent stream_options that are not an object', () => {
    const asked = { stream: true, stream_options: { include_usage: true } };
    expect(ask('completions', asked)).toEqual({ strip: false, streamOptions: asked.stream_options });
    expect(ask('completions', { prompt: 'x' })).toEqual({ strip: false, streamOptions: undefined });
    expect(ask('completions', { stream: 'yes' })).toEqual({ strip: false, streamOptions: undefined });
    expect(ask('completions', { stream: true, stream_options: 'x' })).toEqual({
      strip: false,
      streamOptions: 'x',
    });
  });

  it('leaves the other endpoints alone (their streams always carry usage)', () => {
    for (const endpoint of ['embeddings', 'responses', 'messages'] as const)
      expect(ask(endpoint, { stream: true })).toEqual({ strip: false, streamOptions: undefined });
  });
});
