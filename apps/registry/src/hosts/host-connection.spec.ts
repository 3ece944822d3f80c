import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { ChatSink } from '../contracts/chat-sink';
import { HostConnection, NO_SOCKET_LIMITS } from './host-connection';

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
