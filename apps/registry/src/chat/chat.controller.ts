import { Controller, Get, Headers, HttpCode, Ip, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
  @ApiParam({ name: 'instanceId', type: String })
  @ApiBody({ type: ChatCompletionDto })
  async chat(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.relayCounted(chatCall(request, reply, true, 'second_me', CHAT_PATH));
  }

  @Post('chat/completions')
  @HttpCode(200)
  @ApiOperation({
    summary: 'OpenAI chat completions (JSON unless stream: true or Accept: text/event-stream)',
    description:
      "OpenAI's rules: temperature from 0 to 2, and nothing filled in when temperature or max_tokens is absent (the owner's max_tokens ceiling still applies). The bare route keeps Second Me's (0..1, defaults 0.7 and 2000).",
  })
  @ApiParam({ name: 'instanceId', type: String })
  @ApiBody({ type: OpenAiChatCompletionDto })
  async completions(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const defaultStream = (header(request, 'accept') ?? '').includes('text/event-stream');
    await this.relayCounted(chatCall(request, reply, defaultStream, 'openai', COMPLETIONS_PATH));
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

/**
 * The call as the relay takes it, read from the request itself: one `@Req()` instead of a
 * decorator (and a pipe) per parameter on the busiest route.
 */
function chatCall(
  request: FastifyRequest,
  reply: FastifyReply,
  defaultStream: boolean,
  rules: ChatCall['rules'],
  endpoint: string,
): ChatCall {
  return {
    instanceId: (request.params as { instanceId: string }).instanceId,
    body: request.body,
    defaultStream,
    rules,
    ip: request.ip,
    authorization: header(request, 'authorization'),
    requestId: header(request, 'x-request-id'),
    bodyBytes: declaredLength(header(request, 'content-length')),
    endpoint,
    reply,
  };
}

/** A header as `@Headers(name)` gives it: the value Node joined or kept (first of a repeated one). */
function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Content-Length as a number (Fastify already refused a body longer than it says). */
function declaredLength(header: string | undefined): number | undefined {
  const bytes = Number(header);
  return header !== undefined && Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined;
}
