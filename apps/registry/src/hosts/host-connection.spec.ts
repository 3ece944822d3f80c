import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { FakeHostSocket } from '../../../../test/doubles/fake-host-connection';
import { encodeChunkFrame } from '@app/protocol';
import type { ChatSink } from '../contracts/chat-sink';
import { HostConnection } from './host-connection';
import { NO_SOCKET_LIMITS } from './host-connection-options';
import { MODEL_STATUS_MIN_MS } from './host-model-status';

describe('HostConnection over a real socket', () => {
  let server: WebSocketServer;
  afterEach(() => server?.close());

  it('a frame whose handling throws closes that socket (1011) and is counted; the process lives on', async () => {
    let malformed = 0;
    const accepted = new Promise<HostConnection>((resolve) => {
      server = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => undefined);
      server.on('connection', (socket) =>
        resolve(
          new HostConnection('inst', '', 1, socket, 4, NO_SOCKET_LIMITS, {
            heartbeat: () => undefined,
            hello: () => undefined,
            malformed: () => malformed++,
            closed: () => undefined,
          }),
        ),
      );
    });
    await new Promise((resolve) => server.once('listening', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const closed = new Promise<number>((resolve) => client.on('close', (code) => resolve(code)));
    client.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; request_id: string };
      if (frame.type === 'chat')
        client.send(JSON.stringify({ type: 'chat_response', request_id: frame.request_id, raw_sse: '{}' }));
    });
    const connection = await accepted;
    // Stands for any bug a host's frame may trigger downstream (the caller's side of the chat).
    const throwing: ChatSink = {
      lines: () => {
        throw new RangeError('Invalid string length');
      },
      done: () => undefined,
      error: () => undefined,
    };
    connection.startChat('r1', { messages: [], stream: true, temperature: 0.7, max_tokens: 1 }, throwing);
    expect(await closed).toBe(1011);
    expect(malformed).toBe(1);
  });
});

describe('HostConnection: model_status', () => {
  const connect = () => {
    const wire = new FakeHostSocket();
    const changes: string[] = [];
    const connection = new HostConnection('inst', 'r', 1, wire as unknown as WebSocket, 4, NO_SOCKET_LIMITS, {
      heartbeat: () => undefined,
      hello: () => undefined,
      malformed: () => undefined,
      closed: () => undefined,
      modelStatus: (c) => changes.push(`${c.modelStatus}:${c.modelDetail}`),
    });
    return { wire, connection, changes };
  };

  afterEach(() => jest.useRealTimers());

  it('is taken only from a host whose hello offered health, and told only when it changes', () => {
    jest.useFakeTimers();
    const { wire, connection, changes } = connect();
    wire.receive({ type: 'model_status', status: 'unreachable', detail: 'too early' });
    expect(connection.modelStatus).toBeNull();
    wire.receive({ type: 'hello', capabilities: { concurrency: 2, health: true } });
    expect(connection.modelUp).toBe(true);
    wire.receive({ type: 'model_status', status: 'unreachable', detail: 'GET /models: ECONNREFUSED' });
    wire.receive({ type: 'model_status', status: 'unreachable', detail: 'GET /models: ECONNREFUSED' });
    expect(connection.modelUp).toBe(false);
    wire.receive({ type: 'model_status', status: 'ok' });
    jest.advanceTimersByTime(MODEL_STATUS_MIN_MS);
    expect(changes).toEqual(['unreachable:GET /models: ECONNREFUSED', 'ok:null']);
    expect(connection.modelUp).toBe(true);
  });

  it('a stock host (no hello) stays unknown, which routing treats as healthy', () => {
    const { wire, connection, changes } = connect();
    wire.receive({ type: 'model_status', status: 'error' });
    expect([connection.modelStatus, connection.modelUp, changes]).toEqual([null, true, []]);
  });
});

describe('HostConnection: binary chunk frames', () => {
  const connect = () => {
    const wire = new FakeHostSocket();
    let malformed = 0;
    const connection = new HostConnection('inst', 'r', 1, wire as unknown as WebSocket, 4, NO_SOCKET_LIMITS, {
      heartbeat: () => undefined,
      hello: () => undefined,
      malformed: () => malformed++,
      closed: () => undefined,
    });
    const got: string[] = [];
    const sink: ChatSink = {
      lines: (lines) => got.push(...lines.map((l) => `line ${l}`)),
      rawEvents: (events) => got.push(`bytes ${events.toString()}`),
      done: () => got.push('done'),
      error: (code) => got.push(`error ${code}`),
    };
    return { wire, connection, sink, got, malformed: () => malformed };
  };
  const request = { messages: [], stream: true as const };

  it('are taken only after a hello that accepted them, and go to the sink as the bytes they are', () => {
    const { wire, connection, sink, got, malformed } = connect();
    connection.startChat('r1', request, sink);
    wire.receiveBinary(encodeChunkFrame('r1', 'data: {"a":1}\n\n', false));
    expect([got, malformed()]).toEqual([[], 1]);

    wire.receive({ type: 'hello', capabilities: { concurrency: 2, binary_chunks: true } });
    wire.receiveBinary(encodeChunkFrame('r1', 'data: {"a":1}\n\ndata: {"a":2}\n\n', false));
    wire.receiveBinary(encodeChunkFrame('r1', '', true));
    expect(got).toEqual(['bytes data: {"a":1}\n\ndata: {"a":2}\n\n', 'done']);
    expect(malformed()).toBe(1);
  });

  it('a sink that cannot take bytes gets the payloads; a malformed frame is counted, not delivered', () => {
    const { wire, connection, got, malformed } = connect();
    const lines: string[] = [];
    connection.startChat('r1', request, {
      lines: (l) => lines.push(...l),
      done: () => undefined,
      error: () => undefined,
    });
    wire.receive({ type: 'hello', capabilities: { concurrency: 2, binary_chunks: true } });
    wire.receiveBinary(encodeChunkFrame('r1', 'data: {"a":1}\n\ndata: {"a":2}\n\n', false));
    expect(lines).toEqual(['{"a":1}', '{"a":2}']);
    // Not whole events (no blank line at the end), then not a chunk frame at all.
    wire.receiveBinary(encodeChunkFrame('r1', 'data: {"a":3}', false));
    wire.receiveBinary(Buffer.from([9, 0, 2, 0x72, 0x31]));
    expect([lines.length, got, malformed()]).toEqual([2, [], 2]);
  });
});
