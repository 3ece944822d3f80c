import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-body';
import { ApiError } from './http-errors';

/**
 * The one place errors become responses. Expected failures keep their status and message;
 * anything else is a generic 500 with a correlation id, logged once. Chat routes answer in the
 * OpenAI error shape, everything else in the Second Me envelope.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { status, message, code, param, headers } = this.describe(exception);
    if (reply.sent || reply.raw.headersSent) {
      // A streaming answer already started; the chat relay reports its own failures in-band.
      reply.raw.destroy();
      return;
    }
    for (const [name, value] of Object.entries(headers)) void reply.header(name, value);
    void reply.status(status).send(errorBody(request.url ?? '', status, message, code, param));
  }

  private describe(exception: unknown): {
    status: number;
    message: string;
    code: string | null;
    param: string | null;
    headers: Record<string, string>;
  } {
    if (exception instanceof ApiError) {
      return {
        status: exception.getStatus(),
        message: exception.message,
        code: exception.details.code ?? null,
        param: exception.details.param ?? null,
        headers: exception.details.headers ?? {},
      };
    }
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      const message =
        typeof body === 'object' && body !== null && 'message' in body
          ? String((body as { message: unknown }).message)
          : exception.message;
      return { status: exception.getStatus(), message, code: null, param: null, headers: {} };
    }
    const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
    if (
      typeof fastifyError?.statusCode === 'number' &&
      fastifyError.statusCode >= 400 &&
      fastifyError.statusCode < 500
    ) {
      // Fastify's own client errors: malformed JSON, body too large, bad content type.
      return {
        status: fastifyError.statusCode,
        message: fastifyError.message ?? 'bad request',
        code: fastifyError.code ?? null,
        param: null,
        headers: {},
      };
    }
    const correlationId = randomUUID();
    this.logger.error(
      `unhandled error ${correlationId}`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    return {
      status: 500,
      message: `internal error (correlation id ${correlationId})`,
      code: 'internal_error',
      param: null,
      headers: {},
    };
  }
}
