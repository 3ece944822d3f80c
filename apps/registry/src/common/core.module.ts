import { Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { NodeState } from '../lifecycle/node-state';
import { LimitsService } from '../limits/limits.service';
import { Metrics } from '../metrics/metrics';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { createValidationPipe } from './validation';

/** Global pipe and filter as APP_* providers (so test apps built from AppModule get them too), and node state. */
@Global()
@Module({
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    NodeState,
    LimitsService,
    Metrics,
  ],
  exports: [NodeState, LimitsService, Metrics],
})
export class CoreModule {}
