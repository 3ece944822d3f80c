import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { InspectorModule } from '../inspector/inspector.module';
import { LimitsModule } from '../limits/limits.module';
import { UsageModule } from '../usage/usage.module';
import { PassthroughRelayService } from './passthrough-relay.service';
import { PassthroughController } from './passthrough.controller';

/** Embeddings, completions, Responses and Anthropic Messages under an instance's URL (see PassthroughRelayService). */
@Module({
  imports: [ChatModule, InspectorModule, LimitsModule, UsageModule],
  controllers: [PassthroughController],
  providers: [PassthroughRelayService],
  exports: [PassthroughRelayService],
})
export class PassthroughModule {}
