import { Module } from '@nestjs/common';
import { LimitsService } from './limits.service';

/** One LimitsService per node: its counters must be shared by every capability that charges them. */
@Module({ providers: [LimitsService], exports: [LimitsService] })
export class LimitsModule {}
