/**
 * Bytes that callers leave unread in this node's response buffers, summed over every chat: each
 * chat charges its own backlog after a write and credits it when its buffer drains or closes.
 * An in-process number, so the chat path pays one addition per write.
 */
export class BufferBudget {
  used = 0;

  /** `limit` 0 = no node-wide limit. */
  constructor(readonly limit: number) {}

  /** At or past the limit: no new chats until slow callers read or are cut off. */
  get full(): boolean {
    return this.limit > 0 && this.used >= this.limit;
  }

  /** Past the limit: the chat that just wrote into a backlog is cut off. */
  get exceeded(): boolean {
    return this.limit > 0 && this.used > this.limit;
  }
}
