import fc from 'fast-check';
import { isReplicaName } from '@app/protocol';
import { defaultReplicaName } from './replica-name';

const OLLAMA = 'http://127.0.0.1:11434/v1';
/** First 6 hex of sha256(OLLAMA): pinned, so a change of the derivation (renaming every replica) shows. */
const OLLAMA_HASH = '9b514b';

describe('defaultReplicaName', () => {
  it('is the hostname and six hex digits of the upstream URL', () => {
    expect(defaultReplicaName('gpu-box', OLLAMA)).toBe(`gpu-box-${OLLAMA_HASH}`);
  });

  it('is stable, and the same for the same model server however its URL is written', () => {
    expect(defaultReplicaName('gpu-box', OLLAMA)).toBe(defaultReplicaName('gpu-box', OLLAMA));
    for (const same of [
      'http://127.0.0.1:11434/v1/',
      'HTTP://127.0.0.1:11434/v1//',
      ' http://127.0.0.1:11434/v1 ',
      'http://user:changed-password@127.0.0.1:11434/v1',
    ]) {
      expect(defaultReplicaName('gpu-box', same)).toBe(`gpu-box-${OLLAMA_HASH}`);
    }
    expect(defaultReplicaName('gpu-box', 'http://Example.COM:80/v1')).toBe(
      defaultReplicaName('gpu-box', 'http://example.com/v1'),
    );
  });

  it('differs for two model servers on one machine, and for two machines', () => {
    const a = defaultReplicaName('gpu-box', OLLAMA);
    expect(defaultReplicaName('gpu-box', 'http://127.0.0.1:8080/v1')).not.toBe(a);
    expect(defaultReplicaName('other-box', OLLAMA)).not.toBe(a);
  });

  it.each([
    ['upper case', 'GPU-Box', 'gpu-box'],
    ['a fully qualified name', 'gpu-box.lab.example.com', 'gpu-box.lab.example.com'],
    ['spaces and symbols', 'My Laptop (2)!', 'my-laptop-2'],
    ['accents', 'Müller-PC', 'muller-pc'],
    ['other scripts', '服务器', 'host'],
    ['a leading separator', '.-_box', 'box'],
    ['a trailing separator', 'box._-', 'box'],
    ['an empty hostname', '', 'host'],
    ['only symbols', '***', 'host'],
  ])('cleans a hostname with %s', (_what, hostname, host) => {
    const name = defaultReplicaName(hostname, OLLAMA);
    expect(name).toBe(`${host}-${OLLAMA_HASH}`);
    expect(isReplicaName(name)).toBe(true);
  });

  it('truncates a long hostname to fit 64 characters, without a separator before the hash', () => {
    const name = defaultReplicaName('a'.repeat(56) + '.b' + 'c'.repeat(100), OLLAMA);
    expect(name).toBe(`${'a'.repeat(56)}-${OLLAMA_HASH}`);
    expect(defaultReplicaName('x'.repeat(300), OLLAMA)).toHaveLength(64);
  });

  it('always gives a valid replica name, whatever the hostname and upstream', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string(), (hostname, upstream) =>
        isReplicaName(defaultReplicaName(hostname, upstream)),
      ),
      { numRuns: 500 },
    );
  });
});
