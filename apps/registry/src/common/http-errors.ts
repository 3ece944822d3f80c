import { HttpException } from '@nestjs/common';

/**
 * An expected failure with everything the error filter needs to answer it in either shape
 * (Second Me envelope or OpenAI error): status, message, the field at fault, extra headers.
 */
export class ApiError extends HttpException {
  constructor(
    status: number,
    message: string,
    readonly details: { code?: string; param?: string; headers?: Record<string, string> } = {},
  ) {
    super(message, status);
  }
}

export const unauthorized = () =>
  new ApiError(401, 'invalid instance id or password', { code: 'invalid_credentials' });
export const instanceNotFound = (id: string) =>
  new ApiError(404, `instance '${id}' not found`, {
    code: 'instance_not_found',
    headers: { 'x-should-retry': 'false' },
  });
export const invalidField = (param: string, message: string) =>
  new ApiError(422, message, { code: 'invalid_value', param });
