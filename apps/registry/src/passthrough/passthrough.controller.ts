import { Body, Controller, Headers, HttpCode, Ip, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { performance } from 'node:perf_hooks';
import { ENDPOINT_PATHS, type PassthroughEndpoint } from '@app/protocol';
import { RefusedChats } from '../chat/refused-chats';
import {
  PassthroughCall,
  PassthroughRelayService,
  presentedAuthorization,
} from './passthrough-relay.service';

const ANY_JSON = { schema: { type: 'object', additionalProperties: true } };
const UPLOAD_FORM = {
  schema: {
    type: 'object',
    required: ['file'],
    properties: { file: { type: 'string', format: 'binary' }, model: { type: 'string' } },
    additionalProperties: true,
  },
};
const RELAYED =
  " The body goes to the instance's model server as sent (the owner's model pin and token ceiling applied); the answer, streamed or not, comes back as the model server wrote it. Same keys (Bearer or x-api-key), limits, replicas and usage as chat. A host that serves chat only (a stock Second Me host) answers 501.";

/**
 * The model server's other endpoints under the instance's base URL, for the SDKs and tools that
 * call more than chat: OpenAI's embeddings, completions and Responses, Anthropic's Messages
 * (its SDKs append `/v1/messages` to their base URL), and rerank (vLLM's and llama.cpp's).
 */
@ApiTags('endpoints')
@Controller('api/chat/:instanceId')
export class PassthroughController {
  constructor(
    private readonly relay: PassthroughRelayService,
    private readonly refused: RefusedChats,
  ) {}

  @Post('embeddings')
  @HttpCode(200)
  @ApiOperation({ summary: 'OpenAI embeddings', description: RELAYED })
  @ApiBody(ANY_JSON)
  embeddings(
    @Param('instanceId') id: string,
    @Body() body: unknown,
    @Headers() h: Headers_,
    @Ip() ip: string,
    @Res() reply: FastifyReply,
  ) {
    return this.pass('embeddings', id, body, h, ip, reply);
  }

  @Post('completions')
  @HttpCode(200)
  @ApiOperation({ summary: 'OpenAI (legacy) completions, streamed or not', description: RELAYED })
  @ApiBody(ANY_JSON)
  completions(
    @Param('instanceId') id: string,
    @Body() body: unknown,
    @Headers() h: Headers_,
    @Ip() ip: string,
    @Res() reply: FastifyReply,
  ) {
    return this.pass('completions', id, body, h, ip, reply);
  }

  @Post('responses')
  @HttpCode(200)
  @ApiOperation({ summary: 'OpenAI Responses API (stateless), streamed or not', description: RELAYED })
  @ApiBody(ANY_JSON)
  responses(
    @Param('instanceId') id: string,
    @Body() body: unknown,
    @Headers() h: Headers_,
    @Ip() ip: string,
    @Res() reply: FastifyReply,
  ) {
    return this.pass('responses', id, body, h, ip, reply);
  }

  @Post('v1/messages')
  @HttpCode(200)
  @ApiOperation({
    summary: "Anthropic Messages, streamed or not (errors in Anthropic's shape)",
    description: RELAYED,
  })
  @ApiBody(ANY_JSON)
  messages(
    @Param('instanceId') id: string,
    @Body() body: unknown,
    @Headers() h: Headers_,
    @Ip() ip: string,
    @Res() reply: FastifyReply,
  ) {
    return this.pass('messages', id, body, h, ip, reply);
  }

  @Post('rerank')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rerank documents against a query (vLLM, llama.cpp: `/v1/rerank`)',
    description: RELAYED,
  })
  @ApiBody(ANY_JSON)
  rerank(
    @Param('instanceId') id: string,
    @Body() body: unknown,
    @Headers() h: Headers_,
    @Ip() ip: string,
    @Res() reply: FastifyReply,
  ) {
    return this.pass('rerank', id, body, h, ip, reply);
  }

  @Post('audio/transcriptions')
  @HttpCode(200)
  @ApiOperation({
    summary: 'OpenAI audio transcriptions (multipart/form-data, the audio in `file`), streamed or not',
    description:
      RELAYED +
      " The body is multipart/form-data of at most BODY_LIMIT_BYTES (413 beyond), with the audio (at most 16 MiB) in `file` (422 without one); the text fields (`model`, `response_format`, `stream`, ...) are read for the owner's policy and go on as sent. Served only by hosts whose owner turned it on.",
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody(UPLOAD_FORM)
  transcriptions(
    @Param('instanceId') id: string,
    @Body() body: unknown,
    @Headers() h: Headers_,
    @Ip() ip: string,
    @Res() reply: FastifyReply,
  ) {
    return this.pass('transcriptions', id, body, h, ip, reply);
  }

  /** Relays; a request refused before it reached a host is counted in the owner's usage, as chat's. */
  private async pass(
    endpoint: PassthroughEndpoint,
    instanceId: string,
    body: unknown,
    headers: Headers_,
    ip: string,
    reply: FastifyReply,
  ): Promise<void> {
    const path = `/api/chat/{id}/${ENDPOINT_PATHS[endpoint]}`;
    const call: PassthroughCall = { instanceId, endpoint, path, body, headers, ip, reply };
    const startedAt = performance.now();
    try {
      await this.relay.relay(call);
    } catch (error) {
      if (!reply.sent) {
        const refused = {
          instanceId,
          body,
          ip,
          reply,
          endpoint: path,
          defaultStream: false,
          rules: 'openai' as const,
        };
        this.refused.note(
          { ...refused, authorization: presentedAuthorization(headers) },
          error,
          performance.now() - startedAt,
          endpoint,
        );
      }
      throw error;
    }
  }
}

type Headers_ = Record<string, string | string[] | undefined>;
