import { RecordingBus } from '../../../../test/doubles/recording-bus';
import { BodyCapture } from './body-capture';
import { answerText, CapturingSink } from './capturing-sink';
import type { RoutedSink } from '../chat/chat-router';

function setup() {
  const bus = new RecordingBus('me');
  const capture = new BodyCapture(bus);
  capture.onModuleInit();
  return { bus, capture };
}

describe('BodyCapture', () => {
  let capture: BodyCapture;
  afterEach(() => capture?.onModuleDestroy());

  it('is off by default and keeps nothing while off', () => {
    ({ capture } = setup());
    expect(capture.endsAt('i')).toBeNull();
    capture.keep('i', 'r1', '{"messages":[]}', 'hello');
    expect(capture.body('i', 'r1')).toBeNull();
  });

  it('turns on here and tells the other nodes until when; off drops what was kept, here and there', async () => {
    let bus: RecordingBus;
    ({ bus, capture } = setup());
    const until = await capture.switchTo('i', 10);
    expect(until).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(bus.broadcasts).toEqual([{ topic: 'capture', message: { instanceId: 'i', until } }]);
    capture.keep('i', 'r1', '{"messages":[]}', 'hello');
    expect(capture.body('i', 'r1')).toMatchObject({ request: '{"messages":[]}', response: 'hello' });
    expect(capture.holds('i')('r1')).toBe(true);
    expect(await capture.switchTo('i', 0)).toBeNull();
    expect(bus.broadcasts[1]).toEqual({ topic: 'capture', message: { instanceId: 'i', until: 0 } });
    expect(capture.body('i', 'r1')).toBeNull();
    expect(capture.holds('i')('r1')).toBe(false);
  });

  it('follows another node’s switch, ignores malformed ones, and forgets every switch after a missed broadcast', () => {
    let bus: RecordingBus;
    ({ bus, capture } = setup());
    bus.receiveBroadcast('capture', { instanceId: 'i', until: Date.now() + 60_000 }, 'other');
    bus.receiveBroadcast('capture', { instanceId: 'j', until: 'forever' }, 'other');
    expect(capture.endsAt('i')).not.toBeNull();
    expect(capture.endsAt('j')).toBeNull();
    capture.keep('i', 'r1', 'q', 'a');
    bus.broadcastGap();
    // Fail safe: an "off" may have been missed, so this node captures nothing until the next switch.
    expect(capture.endsAt('i')).toBeNull();
    expect(capture.body('i', 'r1')).toBeNull();
  });

  it('ends by itself when its time is up', () => {
    jest.useFakeTimers({ now: Date.parse('2026-12-06T10:00:00Z') });
    try {
      let bus: RecordingBus;
      ({ bus, capture } = setup());
      bus.receiveBroadcast('capture', { instanceId: 'i', until: Date.now() + 60_000 }, 'other');
      capture.keep('i', 'r1', 'q', 'a');
      jest.advanceTimersByTime(59_000);
      expect(capture.body('i', 'r1')).not.toBeNull();
      jest.advanceTimersByTime(11_000);
      expect(capture.endsAt('i')).toBeNull();
      expect(capture.body('i', 'r1')).toBeNull();
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('CapturingSink', () => {
  const caller = () => {
    const got: string[] = [];
    const sink: RoutedSink = {
      isFinished: false,
      lines: (l) => got.push(...l),
      done: () => {},
      error: () => {},
    };
    return { got, sink };
  };

  it('passes every line on and assembles the answer’s text from stream deltas or a whole message', () => {
    const { got, sink } = caller();
    const capturing = new CapturingSink(sink, 100);
    const lines = [
      '{"choices":[{"delta":{"role":"assistant"}}]}',
      '{"choices":[{"delta":{"content":"Hel"}}]}',
      'data: {"choices":[{"delta":{"content":"lo"}}]}',
      'not json',
      '{"choices":[],"usage":{"prompt_tokens":1}}',
    ];
    capturing.lines(lines);
    expect(got).toEqual(lines);
    expect(capturing.answer).toBe('Hello');
    expect(answerText('{"choices":[{"message":{"content":"whole"}}]}')).toBe('whole');
  });

  it('stops assembling past its limit', () => {
    const { sink } = caller();
    const capturing = new CapturingSink(sink, 4);
    for (let i = 0; i < 10; i++) capturing.lines(['{"choices":[{"delta":{"content":"abc"}}]}']);
    expect(capturing.answer).toBe('abcabc');
  });
});
