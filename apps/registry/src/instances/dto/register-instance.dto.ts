import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsObject, ValidateNested, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { VISIBILITIES, type Visibility } from '@app/contracts';
import { InstancePolicyDto } from './instance-policy.dto';

export class RegisterInstanceDto {
  @ApiProperty({ description: 'Display name of the instance', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  upload_name!: string;

  @ApiPropertyOptional({
    nullable: true,
    description: 'null to register a new instance; an existing id (with Bearer credentials) to re-register',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  instance_id?: string | null;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ maxLength: 320 })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({
    description: 'Free-form metadata (model_name, is_cot, document_count, ...)',
    type: Object,
  })
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Alias of `config` sent by some clients', type: Object })
  @IsOptional()
  @IsObject()
  tags?: Record<string, unknown>;
  @ApiPropertyOptional({ enum: VISIBILITIES, description: 'private: unlisted, chats need an access key' })
  @IsOptional()
  @IsIn(VISIBILITIES)
  visibility?: Visibility;

  @ApiPropertyOptional({ type: InstancePolicyDto, description: 'Owner policy enforced on every chat' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => InstancePolicyDto)
  policy?: InstancePolicyDto;
}
