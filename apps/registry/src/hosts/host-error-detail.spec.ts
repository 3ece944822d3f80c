import { loggableHostError } from './host-error-detail';

describe('loggableHostError', () => {
  it('masks credentials an upstream echoed, quotes the text and cuts it short', () => {
    const logged = loggableHostError(
      'upstream 401: Incorrect API key sk-proj-abcdef123456 (header Authorization: Bearer abc.def)\nFAKE LOG LINE' +
        'x'.repeat(1_000),
    );
    expect(logged).not.toContain('abcdef123456');
    expect(logged).not.toContain('abc.def');
    expect(logged).toContain('Bearer ***');
    expect(logged).not.toContain('\n');
    expect(logged.length).toBeLessThan(400);
  });
});
