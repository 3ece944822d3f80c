import { ValidateBy, ValidationOptions } from 'class-validator';

/** The value serialized as JSON (UTF-8) takes at most `max` bytes: what is stored and cached per row. */
export function MaxJsonBytes(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxJsonBytes',
      constraints: [max],
      validator: {
        validate: (value: unknown) =>
          value === undefined || Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8') <= max,
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must take at most ${max} bytes as JSON (${max / 1024} KiB)`,
      },
    },
    options,
  );
}
