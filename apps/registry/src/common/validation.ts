import { ValidationError, ValidationPipe } from '@nestjs/common';
import { invalidField } from './http-errors';

/** Flattens class-validator errors into `field.path: problem` strings, first error first. */
export function describeValidationErrors(
  errors: ValidationError[],
  parent = '',
): Array<{ field: string; problem: string }> {
  const out: Array<{ field: string; problem: string }> = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const problem of Object.values(error.constraints ?? {})) out.push({ field, problem });
    if (error.children?.length) out.push(...describeValidationErrors(error.children, field));
  }
  return out;
}

/** The REST validation pipe: wrong types and missing fields answer 422 naming the field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidUnknownValues: false,
    exceptionFactory: (errors) => {
      const problems = describeValidationErrors(errors);
      const first = problems[0] ?? { field: 'body', problem: 'body is invalid' };
      const message = problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
      return invalidField(first.field, message || first.problem);
    },
  });
}
