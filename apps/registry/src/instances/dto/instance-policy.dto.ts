import { ApiPropertyOptional } from '@nestjs/swagger';
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
import { KEY_ENDPOINTS } from '../../keys/dto/create-key.dto';

/** The owner policy as the REST API takes it (`policy` of register and PUT); null clears it. */
export class InstancePolicyDto {
  @ApiPropertyOptional({ type: [String], description: 'Only these models may be named' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 256, { each: true })
  allowed_models?: string[];

  @ApiPropertyOptional({ description: 'Every request gets this model; naming another one is refused' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  pinned_model?: string;

  @ApiPropertyOptional({
    description:
      'Ceiling of every token field a model server reads (max_tokens, max_completion_tokens, n_predict, …)',
    minimum: 1,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  max_tokens?: number;

  @ApiPropertyOptional({
    type: [String],
    enum: KEY_ENDPOINTS,
    nullable: true,
    description: 'Endpoints callers may call (403 for the others, with any key); absent or null: all of them',
  })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(KEY_ENDPOINTS.length)
  @IsIn(KEY_ENDPOINTS, { each: true })
  endpoints?: string[] | null;
}
