import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsObject,
  ValidateNested,
  IsOptional,
  IsString,
  Length,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { VISIBILITIES, type Visibility } from '@app/contracts';
import { InstancePolicyDto } from './instance-policy.dto';

/** A partial update: an absent field is left alone; `null` clears email, description and capabilities. */
export class UpdateInstanceDto {
  @ApiPropertyOptional({ maxLength: 200 })
  // A name cannot be cleared: null is checked (and refused) like any other value.
  @ValidateIf((_dto: unknown, value: unknown) => value !== undefined)
  @IsString()
  @Length(1, 200)
  upload_name?: string;

  @ApiPropertyOptional({ type: Object, nullable: true })
  @IsOptional()
  @IsObject()
  capabilities?: Record<string, unknown> | null;

  @ApiPropertyOptional({ maxLength: 320, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string | null;

  @ApiPropertyOptional({ maxLength: 2000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string | null;
  @ApiPropertyOptional({ enum: VISIBILITIES, description: 'private: unlisted, chats need an access key' })
  @IsOptional()
  @IsIn(VISIBILITIES)
  visibility?: Visibility;

  @ApiPropertyOptional({
    type: InstancePolicyDto,
    nullable: true,
    description: 'Owner policy enforced on every chat',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => InstancePolicyDto)
  policy?: InstancePolicyDto | null;
}
