import { Body, Controller, Get, Headers, HttpCode, Ip, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { performance } from 'node:perf_hooks';
import { instanceNotFound } from '../common/http-errors';
import { ChatAccess } from '../keys/chat-access.service';
import { visibleModels } from '../keys/chat-policy';
import { ChatCall, ChatRelayService } from './chat-relay.service';
import { ChatCompletionDto, OpenAiChatCompletionDto } from './dto/chat-completion.dto';
import { InstanceDirectory } from './instance-directory';
import { RefusedChats } from './refused-chats';

/** The routes as the owner's inspector names them (one shared string each, not one per request). */
const CHAT_PATH = '/api/chat/{id}';
const COMPLETIONS_PATH = '/api/chat/{id}/chat/completions';

/**
 * The per-instance OpenAI-compatible chat URL. `/api/chat/{id}` is Second Me's path and streams
 * unless told otherwise; `/api/chat/{id}/chat/completions` is what an OpenAI SDK builds from
 * `base_url` and answers one JSON object unless the caller asks for a stream.
 */
@ApiTags('chat')
@Controller('api/chat/:instanceId')
export class ChatController {
  constructor(
    private readonly relay: ChatRelayService,
    private readonly directory: InstanceDirectory,
    private readonly access: ChatAccess,
    private readonly refused: RefusedChats,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Chat with an instance (Second Me path; streams by default)' })
  @ApiBody({ type: ChatCompletionDto })
  async chat(
    @Param('instanceId') instanceId: string,
    @Body() body: unknown,
    @Ip() ip: string,
    @Headers('x-request-id') requestId: string | undefined,
    @Headers('authorization') authorization: string | undefined,
    @Headers('content-length') contentLength: string | undefined,
    @Res() reply: FastifyReply,
  ) {
    const bodyBytes = declaredLength(contentLength);
    await this.relayCounted({
      instanceId,
      body,
      defaultStream: true,
      rules: 'second_me',
      ip,
      authorization,
      requestId,
      bodyBytes,
      endpoint: CHAT_PATH,
      reply,
    });
  }

  @Post('chat/completions')
  @HttpCode(200)
  @ApiOperation({
    summary: 'OpenAI chat completions (JSON unless stream: true or Accept: text/event-stream)',
    description:
      "OpenAI's rules: temperature from 0 to 2, and nothing filled in when temperature or max_tokens is absent (the owner's max_tokens ceiling still applies). The bare route keeps Second Me's (0..1, defaults 0.7 and 2000).",
  })
  @ApiBody({ type: OpenAiChatCompletionDto })
  async completions(
    @Param('instanceId') instanceId: string,
    @Body() body: unknown,
    @Headers('accept') accept: string | undefined,
    @Headers('x-request-id') requestId: string | undefined,
    @Headers('authorization') authorization: string | undefined,
    @Headers('content-length') contentLength: string | undefined,
    @Ip() ip: string,
    @Res() reply: FastifyReply,
  ) {
    const defaultStream = (accept ?? '').includes('text/event-stream');
    const bodyBytes = declaredLength(contentLength);
    await this.relayCounted({
      instanceId,
      body,
      defaultStream,
      rules: 'openai',
      ip,
      authorization,
      requestId,
      bodyBytes,
      endpoint: COMPLETIONS_PATH,
      reply,
    });
  }

  /**
   * Relays a chat; one refused before it reached a host is counted in the owner's usage and listed
   * in their inspector, then answered as before.
   */
  private async relayCounted(call: ChatCall): Promise<void> {
    const startedAt = performance.now();
    try {
      await this.relay.relay(call);
    } catch (error) {
      if (!call.reply.sent) this.refused.note(call, error, performance.now() - startedAt, 'chat');
      throw error;
    }
  }

  @Get('models')
  @ApiOperation({ summary: 'Models of the instance (OpenAI list format)' })
  async models(
    @Param('instanceId') instanceId: string,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
  ) {
    const entry = await this.directory.lookup(instanceId);
    if (!entry.exists) throw instanceNotFound(instanceId);
    const key = await this.access.identify(instanceId, entry.visibility, authorization, ip);
    const ids = new Set(visibleModels(entry.models, entry.policy, key));
    if (ids.size === 0 && !entry.policy && !key?.models) ids.add(instanceId);
    return {
      object: 'list',
      data: [...ids].map((id) => ({ id, object: 'model', created: 0, owned_by: instanceId })),
    };
  }
}

/** Content-Length as a number (Fastify already refused a body longer than it says). */
function declaredLength(header: string | undefined): number | undefined {
  const bytes = Number(header);
  return header !== undefined && Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined;
}
