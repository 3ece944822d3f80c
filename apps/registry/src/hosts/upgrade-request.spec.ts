import { parseUpgradeRequest } from './upgrade-request';

describe('parseUpgradeRequest', () => {
  it('reads the stock Second Me query-string password', () => {
    expect(parseUpgradeRequest({ url: '/api/ws/abc123?password=s3cret', headers: {} })).toEqual({
      kind: 'credentials',
      instanceId: 'abc123',
      password: 's3cret',
      replica: '',
    });
  });

  it('reads Bearer credentials and rejects a bearer for another instance', () => {
    expect(
      parseUpgradeRequest({ url: '/api/ws/abc123', headers: { authorization: 'Bearer abc123:pw' } }),
    ).toEqual({
      kind: 'credentials',
      instanceId: 'abc123',
      password: 'pw',
      replica: '',
    });
    expect(
      parseUpgradeRequest({ url: '/api/ws/abc123', headers: { authorization: 'Bearer other:pw' } }),
    ).toEqual({
      kind: 'unauthenticated',
      instanceId: 'abc123',
    });
  });

  it('reads the replica name from X-Replica or ?replica=, and refuses an invalid one', () => {
    const bearer = { authorization: 'Bearer abc123:pw' };
    expect(
      parseUpgradeRequest({ url: '/api/ws/abc123', headers: { ...bearer, 'x-replica': 'gpu-a' } }),
    ).toEqual({ kind: 'credentials', instanceId: 'abc123', password: 'pw', replica: 'gpu-a' });
    expect(parseUpgradeRequest({ url: '/api/ws/abc123?password=p&replica=r.2', headers: {} })).toMatchObject({
      kind: 'credentials',
      replica: 'r.2',
    });
    for (const bad of ['../x', '-lead', 'a'.repeat(65), 'sp ace'])
      expect(
        parseUpgradeRequest({ url: '/api/ws/abc123', headers: { ...bearer, 'x-replica': bad } }),
      ).toEqual({
        kind: 'bad_replica',
        instanceId: 'abc123',
      });
    // Without credentials the name is not even looked at: 401 comes first.
    expect(parseUpgradeRequest({ url: '/api/ws/abc123', headers: { 'x-replica': '../x' } }).kind).toBe(
      'unauthenticated',
    );
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
