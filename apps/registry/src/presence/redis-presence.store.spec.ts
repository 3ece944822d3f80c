import { formatOwnerRecord, parseOwnerRecord } from './redis-presence.store';

describe('owner record', () => {
  it('round-trips, also for node ids that contain the separator', () => {
    for (const owner of [
      { nodeId: 'node-a', epoch: 1 },
      { nodeId: 'host|1', epoch: 42 },
      { nodeId: 'x', epoch: Number.MAX_SAFE_INTEGER },
    ]) {
      expect(parseOwnerRecord(formatOwnerRecord(owner))).toEqual(owner);
    }
  });

  it('is null when absent or not a record', () => {
    for (const value of [
      null,
      undefined,
      '',
      'node-a',
      '|3',
      'node-a|',
      'node-a|0',
      'node-a|-1',
      'node-a|1.5',
      'node-a|1e3',
      'node-a|99999999999999999999',
    ]) {
      expect(parseOwnerRecord(value)).toBeNull();
    }
  });
});
