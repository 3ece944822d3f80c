import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsTimestamp } from '../../common/is-timestamp';
import { GRANULARITIES, USAGE_ENDPOINTS, type Granularity, type UsageEndpoint } from '@app/contracts';

export class UsageQuery {
  @ApiPropertyOptional({ description: 'ISO 8601 start (inclusive); default: 24 h before `to`' })
  @IsOptional()
  @IsTimestamp()
  from?: string;

  @ApiPropertyOptional({ description: 'ISO 8601 end (exclusive); default: now' })
  @IsOptional()
  @IsTimestamp()
  to?: string;

  @ApiPropertyOptional({ enum: GRANULARITIES, default: 'hour' })
  @IsOptional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;

  @ApiPropertyOptional({ description: 'Only this access key (absent: every key and keyless calls)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  key_id?: string;

  @ApiPropertyOptional({
    enum: USAGE_ENDPOINTS,
    description: 'Only this endpoint: `chat` or a relayed one (absent: every endpoint)',
  })
  @IsOptional()
  @IsIn(USAGE_ENDPOINTS)
  endpoint?: UsageEndpoint;
}
