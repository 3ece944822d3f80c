import type { ChatRequestBody, RegistryToHostFrame } from '@app/protocol';
import type { ChatSink } from '../contracts/chat-sink';
import { HostChatScheduler } from './host-chat-scheduler';

const body = (): ChatRequestBody => ({
  messages: [{ role: 'user', content: 'hi' }],
  stream: true,
  temperature: 0.7,
  max_tokens: 10,
});

function recordingSink() {
  const events: string[] = [];
  const messages: string[] = [];
  const sink: ChatSink = {
    lines: (lines) => events.push(...lines.map((l) => `line:${l}`)),
    done: () => events.push('done'),
    error: (code, message) => {
      events.push(`error:${code}`);
      messages.push(message);
    },
  };
  return { sink, events, messages };
}

describe('HostChatScheduler', () => {
  let sent: RegistryToHostFrame[];
  let scheduler: HostChatScheduler;
  beforeEach(() => {
    sent = [];
    scheduler = new HostChatScheduler((f) => sent.push(f), 2, 'inst');
  });

  it('serves a host without hello one request at a time, queueing the rest', () => {
    const a = recordingSink();
    const b = recordingSink();
    expect(scheduler.submit('a', body(), a.sink)).toBe(true);
    expect(scheduler.submit('b', body(), b.sink)).toBe(true);
    expect(sent.map((f) => f.type === 'chat' && f.request_id)).toEqual(['a']);
    scheduler.onResponse({ type: 'chat_response', request_id: 'a', raw_sse: '{"x":1}', done: false });
    scheduler.onResponse({ type: 'chat_response', request_id: 'a', done: true });
    expect(a.events).toEqual(['line:{"x":1}', 'done']);
    expect(sent.map((f) => f.type === 'chat' && f.request_id)).toEqual(['a', 'b']);
  });

  it('refuses beyond the queue limit', () => {
    const s = recordingSink().sink;
    expect(scheduler.submit('a', body(), s)).toBe(true);
    expect(scheduler.submit('b', body(), s)).toBe(true);
    expect(scheduler.submit('c', body(), s)).toBe(true);
    expect(scheduler.submit('d', body(), s)).toBe(false);
  });

  it('runs up to the announced concurrency at once and delivers batches in order', () => {
    scheduler.setCapabilities({ concurrency: 3, cancel: true });
    const sinks = ['a', 'b', 'c'].map((id) => {
      const r = recordingSink();
      scheduler.submit(id, body(), r.sink);
      return r;
    });
    expect(sent).toHaveLength(3);
    scheduler.onResponse({ type: 'chat_response', request_id: 'b', raw_sse_batch: ['1', '2'], done: false });
    scheduler.onResponse({ type: 'chat_response', request_id: 'b', error: 'boom' });
    expect(sinks[1].events).toEqual(['line:1', 'line:2', 'error:host_error']);
    expect(scheduler.activeCount).toBe(2);
  });

  it('sends cancel to a cancelling host and frees the slot at once', () => {
    scheduler.setCapabilities({ concurrency: 1, cancel: true });
    const a = recordingSink();
    scheduler.submit('a', body(), a.sink);
    scheduler.submit('b', body(), recordingSink().sink);
    scheduler.cancel('a');
    expect(sent.map((f) => f.type)).toEqual(['chat', 'cancel', 'chat']);
    scheduler.onResponse({ type: 'chat_response', request_id: 'a', raw_sse: 'late', done: false });
    expect(a.events).toEqual([]);
    expect(scheduler.droppedFrames).toBe(1);
  });

  it('keeps a stock host busy with an abandoned request until it finishes', () => {
    const a = recordingSink();
    scheduler.submit('a', body(), a.sink);
    scheduler.submit('b', body(), recordingSink().sink);
    scheduler.cancel('a');
    expect(sent.map((f) => f.type)).toEqual(['chat']);
    scheduler.onResponse({ type: 'chat_response', request_id: 'a', raw_sse: 'x', done: false });
    scheduler.onResponse({ type: 'chat_response', request_id: 'a', done: true });
    expect(a.events).toEqual([]);
    expect(sent.map((f) => f.type === 'chat' && f.request_id)).toEqual(['a', 'b']);
  });

  it('fails active and queued requests when the socket goes', () => {
    const a = recordingSink();
    const b = recordingSink();
    scheduler.submit('a', body(), a.sink);
    scheduler.submit('b', body(), b.sink);
    scheduler.failAll('host_disconnected', 'gone');
    expect(a.events).toEqual(['error:host_disconnected']);
    expect(b.events).toEqual(['error:host_disconnected']);
    expect(scheduler.activeCount + scheduler.queuedCount).toBe(0);
  });

  it("tells the caller a generic error with the request id, never the host's detail", () => {
    const a = recordingSink();
    scheduler.submit('r1', body(), a.sink);
    scheduler.onResponse({
      type: 'chat_response',
      request_id: 'r1',
      error: 'connect ECONNREFUSED 127.0.0.1:11434',
    });
    expect(a.events).toEqual(['error:host_error']);
    expect(a.messages[0]).toBe('the model host reported an error (request r1)');
  });

  it('tells frames for ended requests (late) from frames for ids the host was never given', () => {
    scheduler.setCapabilities({ concurrency: 2, cancel: true });
    const a = recordingSink();
    scheduler.submit('given', body(), a.sink);
    expect(scheduler.onResponse({ type: 'chat_response', request_id: 'given', raw_sse: '1' })).toBe(true);
    scheduler.cancel('given');
    expect(scheduler.onResponse({ type: 'chat_response', request_id: 'given', raw_sse: '2' })).toBe(true);
    expect(scheduler.onResponse({ type: 'chat_response', request_id: 'invented', raw_sse: '3' })).toBe(false);
    expect(scheduler.droppedFrames).toBe(2);
  });

  it('remembers only cancelled requests, and at most max(16, 2 × concurrency) of them', () => {
    scheduler.setCapabilities({ concurrency: 10, cancel: true });
    const a = recordingSink();
    scheduler.submit('done', body(), a.sink);
    scheduler.onResponse({ type: 'chat_response', request_id: 'done', raw_sse: '1', done: true });
    // The host ended it itself: a frame after its `done` is one it invented.
    expect(scheduler.onResponse({ type: 'chat_response', request_id: 'done', raw_sse: '2' })).toBe(false);
    for (let i = 0; i < 21; i++) {
      scheduler.submit(`c${i}`, body(), a.sink);
      scheduler.cancel(`c${i}`);
    }
    // 2 × 10 = 20 remembered: the oldest one is forgotten.
    expect(scheduler.onResponse({ type: 'chat_response', request_id: 'c0', raw_sse: 'x' })).toBe(false);
    expect(scheduler.onResponse({ type: 'chat_response', request_id: 'c1', raw_sse: 'x' })).toBe(true);
    expect(scheduler.onResponse({ type: 'chat_response', request_id: 'c20', raw_sse: 'x' })).toBe(true);
  });
});
