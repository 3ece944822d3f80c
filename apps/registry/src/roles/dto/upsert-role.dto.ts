import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length, MaxLength } from 'class-validator';

export class UpsertRoleDto {
  @ApiProperty({ maxLength: 64 })
  @IsString()
  @Length(1, 64)
  role_id!: string;

  @ApiProperty({ maxLength: 64 })
  @IsString()
  @Length(1, 64)
  instance_id!: string;

  @ApiProperty({ maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ maxLength: 20000 })
  @IsOptional()
  @IsString()
  @MaxLength(20000)
  system_prompt?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  is_active?: boolean;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  icon?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enable_l0_retrieval?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enable_l1_retrieval?: boolean;
}
