import { Candidate, chooseReplica } from './replica-choice';

const replica = (key: string, capacity: number, load: number, local = false): Candidate => ({
  key,
  local,
  capacity,
  load,
});

describe('chooseReplica', () => {
  it('picks the replica with the most free capacity', () => {
    const chosen = chooseReplica([replica('a', 4, 3), replica('b', 8, 2), replica('c', 2, 0)]);
    expect(chosen?.key).toBe('b');
  });

  it('prefers a replica on this node on a tie, whatever the random draw', () => {
    const options = [replica('far', 4, 1), replica('near', 4, 1, true), replica('far2', 4, 1)];
    for (const draw of [0, 0.4, 0.99]) expect(chooseReplica(options, () => draw)?.key).toBe('near');
  });

  it('breaks a tie between remote replicas at random', () => {
    const options = [replica('x', 2, 0), replica('y', 2, 0)];
    expect(chooseReplica(options, () => 0)?.key).toBe('x');
    expect(chooseReplica(options, () => 0.99)?.key).toBe('y');
  });

  it('when all are full, queues where the wait per unit of capacity is shortest', () => {
    // a: 2 queued over capacity 1 → waits for 3 turns of 1; b: 4 queued over capacity 8 → less than one turn.
    const chosen = chooseReplica([replica('a', 1, 3), replica('b', 8, 12)]);
    expect(chosen?.key).toBe('b');
  });

  it('a free replica always beats a full one', () => {
    expect(chooseReplica([replica('full', 100, 100), replica('free', 1, 0)])?.key).toBe('free');
  });

  it('none or one candidate', () => {
    expect(chooseReplica([])).toBeNull();
    expect(chooseReplica([replica('only', 1, 50)])?.key).toBe('only');
  });
});
