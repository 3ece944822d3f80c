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

/** The fields both chat routes check alike. */
abstract class ChatBodyDto {
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

  @ApiPropertyOptional({
    description:
      'Default: true on /api/chat/{id}; on /chat/completions JSON unless Accept asks for text/event-stream',
  })
  @IsOptional()
  @IsBoolean()
  stream?: boolean;
}

/**
 * The bare `POST /api/chat/{id}` (Second Me's contract). The fields the registry checks; every
 * other field (`model`, `top_p`, `tools`, `stop`, `stream_options`, `extendData`, ...) is passed
 * to the host untouched.
 */
export class ChatCompletionDto extends ChatBodyDto {
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
}

/** `/chat/completions`: OpenAI's rules (temperature 0..2, nothing filled in when absent). */
export class OpenAiChatCompletionDto extends ChatBodyDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 2, description: "Absent: the model server's default" })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(2)
  temperature?: number;

  @ApiPropertyOptional({
    minimum: 1,
    description: "Absent: none is sent (the owner's max_tokens ceiling, if set, is sent instead)",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_tokens?: number;
}
