import { USAGE_ENDPOINTS } from '@app/contracts';
import { PASSTHROUGH_ENDPOINTS } from '@app/protocol';

describe('USAGE_ENDPOINTS', () => {
  // The contracts library (the console's too) cannot import the protocol: this holds the lists together,
  // so a newly relayed endpoint is accepted by the usage API's `endpoint` filter.
  it('is chat and every endpoint the registry relays besides chat', () => {
    expect([...USAGE_ENDPOINTS].sort()).toEqual(['chat', ...PASSTHROUGH_ENDPOINTS].sort());
  });
});
