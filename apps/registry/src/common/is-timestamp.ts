import { isISO8601, ValidateBy, ValidationOptions } from 'class-validator';

/**
 * An ISO 8601 date (and time) that JavaScript can read. `IsDateString` alone lets through forms
 * such as week dates (`2099-W01-1`) and basic format (`20990101`) that `new Date()` turns into an
 * invalid date, which then failed deep in the database layer as a 500.
 */
export function IsTimestamp(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTimestamp',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && isISO8601(value) && !Number.isNaN(new Date(value).getTime()),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be an ISO 8601 date or date-time such as 2030-01-31T12:00:00Z`,
      },
    },
    options,
  );
}
