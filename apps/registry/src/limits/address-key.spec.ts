import { addressKey } from './address-key';

describe('addressKey', () => {
  it('keeps IPv4 addresses, and IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('groups IPv6 addresses of one /64, however they are written', () => {
    const key = addressKey('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:eeee:dddd:cccc')).toBe(key);
    expect(addressKey('2001:DB8:1:2:0:0:0:99%eth0')).toBe(key);
    expect(addressKey('2001:db8:1:2:a:b:1.2.3.4')).toBe(key);
  });

  it('keeps different /64 networks apart', () => {
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1')).toBe('fe80:0:0:0::/64');
  });

  it('leaves what is not an address unchanged', () => {
    expect(addressKey('not:an:address')).toBe('not:an:address');
    expect(addressKey('unknown')).toBe('unknown');
  });
});
