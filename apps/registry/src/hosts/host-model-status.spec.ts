import { HostModelStatus, MODEL_STATUS_MIN_MS } from './host-model-status';

describe('HostModelStatus', () => {
  afterEach(() => jest.useRealTimers());

  it('tells a change at once, then at most one per MODEL_STATUS_MIN_MS, the latest winning', () => {
    jest.useFakeTimers();
    const told: string[] = [];
    const model = new HostModelStatus(() => told.push(`${model.status}:${model.detail}`));
    expect(model.up).toBe(true);
    model.receive('unreachable', 'refused');
    expect(told).toEqual(['unreachable:refused']);
    expect(model.up).toBe(false);
    // A hostile host flips it on every frame: nothing more until the window ends, then the last word.
    for (let i = 0; i < 1_000; i++) model.receive(i % 2 ? 'ok' : 'error', `flip ${i}`);
    expect(told).toHaveLength(1);
    jest.advanceTimersByTime(MODEL_STATUS_MIN_MS);
    expect(told).toEqual(['unreachable:refused', 'ok:flip 999']);
    expect(model.up).toBe(true);
  });

  it('new words under the same status are kept without telling anyone; nothing is told after stop', () => {
    jest.useFakeTimers();
    let told = 0;
    const model = new HostModelStatus(() => told++);
    model.receive('error', 'HTTP 500 at 1');
    jest.advanceTimersByTime(MODEL_STATUS_MIN_MS);
    model.receive('error', 'HTTP 500 at 2');
    expect([told, model.detail]).toEqual([1, 'HTTP 500 at 2']);
    model.receive('ok', null);
    model.stop();
    jest.advanceTimersByTime(MODEL_STATUS_MIN_MS);
    expect([told, model.status]).toEqual([2, 'ok']);
    model.receive('unreachable', 'x');
    jest.advanceTimersByTime(MODEL_STATUS_MIN_MS);
    expect(model.status).toBe('ok');
  });
});
