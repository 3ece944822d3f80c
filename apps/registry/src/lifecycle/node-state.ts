import { Injectable } from '@nestjs/common';

/** Whether this node is draining: not ready, accepts no new hosts or chats. */
@Injectable()
export class NodeState {
  draining = false;
}
