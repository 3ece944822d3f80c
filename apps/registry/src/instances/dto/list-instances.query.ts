import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { INSTANCE_STATUSES, type InstanceStatus } from '@app/contracts';

const toArray = ({ value }: { value: unknown }) =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

export class ListInstancesQuery {
  @ApiPropertyOptional({ default: 1, minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page_no: number = 1;

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  page_size: number = 20;

  @ApiPropertyOptional({
    enum: INSTANCE_STATUSES,
    isArray: true,
    description: 'Repeatable: ?status=online&status=registered',
  })
  @IsOptional()
  @Transform(toArray)
  @IsIn(INSTANCE_STATUSES, { each: true })
  status?: InstanceStatus[];
}

export class CountInstancesQuery {
  @ApiPropertyOptional({ enum: INSTANCE_STATUSES, isArray: true })
  @IsOptional()
  @Transform(toArray)
  @IsIn(INSTANCE_STATUSES, { each: true })
  status?: InstanceStatus[];
}
