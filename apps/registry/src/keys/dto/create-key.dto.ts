import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsDateString,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
} from 'class-validator';

/** `POST /api/upload/{id}/keys`: a name and optional limits; every limit holds across all nodes. */
export class CreateKeyDto {
  @ApiProperty({ maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiPropertyOptional({ description: 'ISO 8601 time after which the key is refused (401)' })
  @IsOptional()
  @IsDateString()
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

  @ApiPropertyOptional({ type: [String], description: 'Models the key may use (403 for others)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 256, { each: true })
  models?: string[];
}
