import { parseUpgradeRequest } from './upgrade-request';

describe('parseUpgradeRequest', () => {
  it('reads the stock Second Me query-string password', () => {
    expect(parseUpgradeRequest({ url: '/api/ws/abc123?password=s3cret', headers: {} })).toEqual({
      kind: 'credentials',
      instanceId: 'abc123',
      password: 's3cret',
    });
  });

  it('reads Bearer credentials and rejects a bearer for another instance', () => {
    expect(
      parseUpgradeRequest({ url: '/api/ws/abc123', headers: { authorization: 'Bearer abc123:pw' } }),
    ).toEqual({
      kind: 'credentials',
      instanceId: 'abc123',
      password: 'pw',
    });
    expect(
      parseUpgradeRequest({ url: '/api/ws/abc123', headers: { authorization: 'Bearer other:pw' } }),
    ).toEqual({
      kind: 'unauthenticated',
      instanceId: 'abc123',
    });
  });

  it('treats a missing secret as unauthenticated and other paths as not found', () => {
    expect(parseUpgradeRequest({ url: '/api/ws/abc123', headers: {} }).kind).toBe('unauthenticated');
    expect(parseUpgradeRequest({ url: '/api/ws/abc123?password=', headers: {} }).kind).toBe(
      'unauthenticated',
    );
    expect(parseUpgradeRequest({ url: '/api/other', headers: {} }).kind).toBe('not_found');
    expect(parseUpgradeRequest({ url: '/api/ws/a/b', headers: {} }).kind).toBe('not_found');
    expect(parseUpgradeRequest({ url: '/api/ws/%E0%A4%A', headers: {} }).kind).toBe('not_found');
  });
});
