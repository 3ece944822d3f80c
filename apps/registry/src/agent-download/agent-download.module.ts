import { Module } from '@nestjs/common';
import { AgentDownloadController } from './agent-download.controller';

/** Every node serves the agent it was built with at /agent.mjs. */
@Module({ controllers: [AgentDownloadController] })
export class AgentDownloadModule {}
