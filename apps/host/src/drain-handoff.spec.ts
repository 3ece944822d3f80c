import { DrainHandoff } from './drain-handoff';

/** A registry socket as the handoff sees it. */
class FakeSocket {
  isOpen = true;
  chats = 0;
  readonly closes: Array<[number, string]> = [];

  constructor(readonly name: string) {}

  close(code: number, reason: string): Promise<void> {
    this.closes.push([code, reason]);
    this.isOpen = false;
    return Promise.resolve();
  }
}

const LINGER = 1000;

describe('DrainHandoff', () => {
  let handoff: DrainHandoff<FakeSocket>;

  beforeEach(() => {
    jest.useFakeTimers();
    handoff = new DrainHandoff<FakeSocket>({ lingerMs: LINGER, busy: (s) => s.chats > 0 });
  });

  afterEach(() => jest.useRealTimers());

  it('keeps the goaway’d socket open while no newer connection has said hello', () => {
    const old = new FakeSocket('old');
    handoff.drain(old);
    jest.advanceTimersByTime(60 * LINGER);
    handoff.chatEnded(old);
    expect(old.closes).toEqual([]);
  });

  it('closes an idle goaway’d socket with 1000 once the linger after the new hello ran out', () => {
    const old = new FakeSocket('old');
    handoff.drain(old);
    handoff.tookOver(new FakeSocket('new'));
    jest.advanceTimersByTime(LINGER - 1);
    expect(old.closes).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(old.closes).toEqual([[1000, 'drained']]);
  });

  it('lets a busy socket finish its chats, then closes it after the last one', () => {
    const old = new FakeSocket('old');
    old.chats = 2;
    handoff.drain(old);
    handoff.tookOver(new FakeSocket('new'));
    jest.advanceTimersByTime(LINGER);
    expect(old.closes).toEqual([]);
    old.chats = 1;
    handoff.chatEnded(old);
    expect(old.closes).toEqual([]);
    old.chats = 0;
    handoff.chatEnded(old);
    expect(old.closes).toEqual([[1000, 'drained']]);
  });

  it('does not close a socket whose chat ended before the linger ran out', () => {
    const old = new FakeSocket('old');
    old.chats = 1;
    handoff.drain(old);
    handoff.tookOver(new FakeSocket('new'));
    old.chats = 0;
    handoff.chatEnded(old);
    expect(old.closes).toEqual([]);
    jest.advanceTimersByTime(LINGER);
    expect(old.closes).toEqual([[1000, 'drained']]);
  });

  it('never closes the connection that said hello, even if it got goaway itself before', () => {
    const current = new FakeSocket('current');
    handoff.drain(current);
    handoff.tookOver(current);
    jest.advanceTimersByTime(60 * LINGER);
    expect(current.closes).toEqual([]);
  });

  it('leaves alone sockets that never got goaway, and sockets that closed meanwhile', () => {
    const plain = new FakeSocket('plain');
    const gone = new FakeSocket('gone');
    handoff.drain(gone);
    handoff.tookOver(new FakeSocket('new'));
    gone.isOpen = false;
    handoff.forget(gone);
    jest.advanceTimersByTime(LINGER);
    handoff.chatEnded(plain);
    handoff.chatEnded(gone);
    expect(plain.closes).toEqual([]);
    expect(gone.closes).toEqual([]);
  });

  it('starts the linger at the first hello after goaway, not at a later one', () => {
    const old = new FakeSocket('old');
    handoff.drain(old);
    handoff.tookOver(new FakeSocket('first'));
    jest.advanceTimersByTime(LINGER / 2);
    handoff.tookOver(new FakeSocket('second'));
    jest.advanceTimersByTime(LINGER / 2);
    expect(old.closes).toEqual([[1000, 'drained']]);
  });
});
