import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CachedFile, sendCachedFile } from '../common/cached-file-reply';
import { ApiError } from '../common/http-errors';
import { AGENT_FILE_NAME, loadAgentDownload } from './agent-bundle';

/** The host agent as one file (`curl -O <registry>/agent.mjs && node agent.mjs …`), and its checksum. */
@ApiTags('agent')
@Controller()
export class AgentDownloadController {
  private readonly download = loadAgentDownload();

  @Get(AGENT_FILE_NAME)
  @ApiOperation({
    summary: 'The host agent: one ES module, no dependencies, Node.js >= 20 (node agent.mjs --help)',
  })
  @ApiProduces('text/javascript')
  script(@Headers() headers: Record<string, string | undefined>, @Res() reply: FastifyReply) {
    this.send(this.download?.script, headers, reply);
  }

  @Get(`${AGENT_FILE_NAME}.sha256`)
  @ApiOperation({ summary: 'SHA-256 of agent.mjs, in the format sha256sum -c reads' })
  @ApiProduces('text/plain')
  checksum(@Headers() headers: Record<string, string | undefined>, @Res() reply: FastifyReply) {
    this.send(this.download?.checksum, headers, reply);
  }

  private send(
    file: CachedFile | undefined,
    headers: Record<string, string | undefined>,
    reply: FastifyReply,
  ): void {
    if (!file)
      throw new ApiError(404, 'the agent is not built on this node: run `npm run build`', {
        code: 'agent_not_built',
      });
    sendCachedFile(file, headers, reply);
  }
}
