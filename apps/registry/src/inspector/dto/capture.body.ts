import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_CAPTURE_MINUTES } from '../body-capture';

export class CaptureBody {
  @ApiProperty({
    minimum: 0,
    maximum: MAX_CAPTURE_MINUTES,
    description:
      'Capture request and response bodies for this many minutes from now (at most 1440, a day); 0 turns capture off',
  })
  @IsInt()
  @Min(0)
  @Max(MAX_CAPTURE_MINUTES)
  minutes!: number;
}
