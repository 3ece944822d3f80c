import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export const CHAT_ROLES = ['system', 'user', 'assistant', 'tool', 'developer'] as const;

export class ChatMessageDto {
  @ApiProperty({ enum: CHAT_ROLES })
  @IsIn(CHAT_ROLES)
  role!: string;

  @ApiPropertyOptional({
    description: 'A string, or an array of content parts; null for assistant tool calls',
  })
  @IsOptional()
  content?: unknown;
}

export class ChatMetadataDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enable_l0_retrieval?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  role_id?: string;
}

/**
 * The fields the registry checks. Every other field (`model`, `top_p`, `tools`, `stop`,
 * `stream_options`, `extendData`, ...) is passed to the host untouched.
 */
export class ChatCompletionDto {
  @ApiProperty({ type: [ChatMessageDto] })
  @IsDefined()
  @IsArray()
  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages!: ChatMessageDto[];

  @ApiPropertyOptional({ type: ChatMetadataDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ChatMetadataDto)
  metadata?: ChatMetadataDto;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, default: 0.7 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  temperature?: number;

  @ApiPropertyOptional({ minimum: 1, default: 2000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_tokens?: number;

  @ApiPropertyOptional({
    description:
      'Default: true on /api/chat/{id}; on /chat/completions JSON unless Accept asks for text/event-stream',
  })
  @IsOptional()
  @IsBoolean()
  stream?: boolean;
}
