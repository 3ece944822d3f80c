import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { RequestLog } from './request-log';

/** How often instances idle for an hour lose their rings (reads already hide what is older). */
const SWEEP_MS = 60_000;

/** This node's RequestLog, swept once a minute. */
@Injectable()
export class NodeRequestLog extends RequestLog implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  onModuleInit(): void {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
