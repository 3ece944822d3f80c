import { Body, Controller, Delete, Get, Header, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { CaptureState, CapturedBody } from '@app/contracts';
import { ApiError } from '../common/http-errors';
import { ok } from '../common/envelope';
import type { InstanceRecord } from '../instances/instances.repository';
import { Owner, OwnerOnly } from '../instances/owner.guard';
import { BodyCapture } from './body-capture';
import { ClusterBodies } from './cluster-bodies';
import { CaptureBody } from './dto/capture.body';

const KEPT =
  'Bodies are kept in memory on the registry node that took the request (each cut at 32 KiB, 1 MiB per instance per node, oldest dropped first), never logged, never shown to anyone but the owner, and deleted when capture ends.';

const state = (until: number | null): CaptureState => ({
  until: until === null ? null : new Date(until).toISOString(),
});

/** The owner's opt-in capture of request and response bodies, and one request's captured bodies. */
@ApiTags('inspector')
@Controller('api/upload/:instanceId')
@OwnerOnly()
export class CaptureController {
  constructor(
    private readonly capture: BodyCapture,
    private readonly bodies: ClusterBodies,
  ) {}

  @Get('capture')
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Whether request and response bodies are captured, and until when (null: off)' })
  show(@Owner() owner: InstanceRecord) {
    return ok(state(this.capture.endsAt(owner.id)));
  }

  @Put('capture')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: 'Captures request and response bodies for a number of minutes (at most a day; 0 turns it off)',
    description: `Off by default. The switch reaches every registry node at once; a node that starts later captures nothing until the next switch. ${KEPT}`,
  })
  async turn(@Owner() owner: InstanceRecord, @Body() body: CaptureBody) {
    return ok(state(await this.capture.switchTo(owner.id, body.minutes)));
  }

  @Delete('capture')
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Turns body capture off and deletes what was captured on every node' })
  async off(@Owner() owner: InstanceRecord) {
    return ok(state(await this.capture.switchTo(owner.id, 0)));
  }

  @Get('requests/:requestId/body')
  @Header('cache-control', 'no-store')
  @ApiParam({ name: 'requestId', description: 'The `id` of a row of GET /api/upload/{id}/requests' })
  @ApiOperation({
    summary: 'The captured request and response bodies of one request (404 when none are held)',
    description: KEPT,
  })
  async body(@Owner() owner: InstanceRecord, @Param('requestId') requestId: string) {
    const found: CapturedBody | null = await this.bodies.find(owner.id, requestId);
    if (!found)
      throw new ApiError(
        404,
        `no captured bodies for request '${requestId}' (capture off, expired or dropped)`,
        {
          code: 'body_not_captured',
        },
      );
    return ok(found);
  }
}
