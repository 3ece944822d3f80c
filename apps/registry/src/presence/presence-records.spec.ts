import {
  encodeReplicaState,
  formatOwnerRecord,
  parseOwnerRecord,
  parseReplicaEntry,
} from './presence-records';

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

describe('replica entry', () => {
  const state = { capacity: 4, inFlight: 2, connectedAt: 1_700_000_000_000, draining: true };

  it('reads back what the scripts store (`<epoch>|<state JSON>`)', () => {
    expect(parseReplicaEntry('inst', 'gpu-1', `42|${encodeReplicaState('node-a', state)}`)).toEqual({
      instanceId: 'inst',
      replica: 'gpu-1',
      nodeId: 'node-a',
      epoch: 42,
      ...state,
    });
  });

  it("carries the agent's model status and words once it reported them, bounded when read", () => {
    const down = { ...state, modelStatus: 'unreachable' as const, modelDetail: 'GET /models: ECONNREFUSED' };
    expect(parseReplicaEntry('inst', 'gpu-1', `42|${encodeReplicaState('node-a', down)}`)).toMatchObject({
      modelStatus: 'unreachable',
      modelDetail: 'GET /models: ECONNREFUSED',
    });
    const odd = `7|{"n":"a","m":"error","md":"x\\u0007${'y'.repeat(2_000)}"}`;
    expect(parseReplicaEntry('inst', '', odd)?.modelDetail).toMatch(/^x y{298}$/);
    expect(parseReplicaEntry('inst', '', '7|{"n":"a","m":"sick","md":"z"}')).not.toHaveProperty(
      'modelStatus',
    );
  });

  it('is null when the epoch, the JSON or the node cannot be read, and bounds odd counts', () => {
    for (const value of ['', '|{"n":"a"}', '0|{"n":"a"}', 'x|{"n":"a"}', '3|not json', '3|{"n":""}', '3|{}'])
      expect(parseReplicaEntry('inst', '', value)).toBeNull();
    expect(parseReplicaEntry('inst', '', '3|{"n":"a","c":0,"f":-2,"t":"x"}')).toMatchObject({
      capacity: 1,
      inFlight: 0,
      connectedAt: 0,
      draining: false,
    });
  });
});
