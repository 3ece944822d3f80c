import { HELLO_LIMITS, PASSTHROUGH_ENDPOINTS } from '@app/protocol';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
} from 'class-validator';
import { IsTimestamp } from '../../common/is-timestamp';
import { MaxJsonBytes } from '../../common/max-json-bytes';

/** What a key may be limited to: chat, and each endpoint the registry relays besides it. */
export const KEY_ENDPOINTS: readonly string[] = ['chat', ...PASSTHROUGH_ENDPOINTS];

/** `POST /api/upload/{id}/keys`: a name and optional limits; every limit holds across all nodes. */
export class CreateKeyDto {
  @ApiProperty({ maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiPropertyOptional({ description: 'ISO 8601 time after which the key is refused (401)' })
  @IsOptional()
  @IsTimestamp()
  expires_at?: string;

  @ApiPropertyOptional({ description: 'Requests per minute (429 with Retry-After beyond)', minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  rpm?: number;

  @ApiPropertyOptional({ description: 'Chats of this key in flight at once', minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  max_concurrent?: number;

  @ApiPropertyOptional({ description: 'Prompt + completion tokens per UTC day', minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000_000_000)
  tokens_per_day?: number;

  @ApiPropertyOptional({
    type: [String],
    description: 'Models the key may use (403 for others); at most 16 KiB as JSON, like a host hello',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(HELLO_LIMITS.models)
  @IsString({ each: true })
  @Length(1, HELLO_LIMITS.modelNameChars, { each: true })
  @MaxJsonBytes(HELLO_LIMITS.modelsTotalChars)
  models?: string[];

  @ApiPropertyOptional({
    type: [String],
    enum: KEY_ENDPOINTS,
    description: 'Endpoints the key may call (403 for others); absent: all of them',
  })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(KEY_ENDPOINTS, { each: true })
  endpoints?: string[];
}
