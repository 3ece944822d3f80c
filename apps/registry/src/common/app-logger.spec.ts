import { redact } from './app-logger';

describe('redact', () => {
  it('hides passwords in URLs, Bearer credentials and JSON fields', () => {
    expect(redact('GET /api/ws/abc?password=s3cr3t&x=1')).toBe('GET /api/ws/abc?password=[redacted]&x=1');
    expect(redact('authorization: Bearer abc:s3cr3t')).toBe('authorization: Bearer abc:[redacted]');
    expect(redact({ msg: 'x', instance_password: 's3cr3t' })).toEqual({
      msg: 'x',
      instance_password: '[redacted]',
    });
    expect(redact('nothing secret')).toBe('nothing secret');
  });
});
