import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { REQUEST_FILTERS, type RequestFilter } from '@app/contracts';
import { IsTimestamp } from '../../common/is-timestamp';

/** The most rows one answer holds (the newest, after the filters). */
export const MAX_REQUEST_ROWS = 200;

export class RequestsQuery {
  @ApiPropertyOptional({
    enum: REQUEST_FILTERS,
    description:
      'An HTTP status class, or how requests ended: `refused` (turned away before a host saw them), `failed`, `left` (the caller hung up), `answered`',
  })
  @IsOptional()
  @IsIn(REQUEST_FILTERS)
  status?: RequestFilter;

  @ApiPropertyOptional({ description: 'Only requests made with this access key (its key_id)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  key_id?: string;

  @ApiPropertyOptional({
    description:
      'ISO 8601: only requests that ended at or after this (for polling: the newest `at` seen, minus a few seconds for clocks between nodes; rows repeat, their `id` tells them apart)',
  })
  @IsOptional()
  @IsTimestamp()
  since?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_REQUEST_ROWS, default: MAX_REQUEST_ROWS })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_REQUEST_ROWS)
  limit?: number;
}
