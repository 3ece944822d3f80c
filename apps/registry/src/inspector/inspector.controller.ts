import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { RequestList } from '@app/contracts';
import { ok } from '../common/envelope';
import type { InstanceRecord } from '../instances/instances.repository';
import { Owner, OwnerOnly } from '../instances/owner.guard';
import { KeysRepository } from '../keys/keys.repository';
import { ClusterRequests } from './cluster-requests';
import { MAX_REQUEST_ROWS, RequestsQuery } from './dto/requests.query';

/** The owner's request inspector: the instance's recent requests on every node, newest first. */
@ApiTags('inspector')
@Controller('api/upload/:instanceId/requests')
@OwnerOnly()
export class InspectorController {
  constructor(
    private readonly requests: ClusterRequests,
    private readonly keys: KeysRepository,
  ) {}

  @Get()
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: 'Recent requests of the instance (last 200 per node, last hour), from every registry node',
    description:
      'Each request with its time, endpoint, model, key, HTTP status and failure code, time to first token, duration, tokens, the node and replica that served it, the caller’s address masked to /24 or /48, and the X-Request-Id the caller saw. Kept in memory on the node that took the request; a node that does not answer within a second is listed in `nodes.skipped`.',
  })
  async list(@Owner() owner: InstanceRecord, @Query() query: RequestsQuery) {
    const gathered = await this.requests.gather(owner.id, {
      since: query.since ? new Date(query.since).getTime() : 0,
      limit: query.limit ?? MAX_REQUEST_ROWS,
      status: query.status,
      keyId: query.key_id,
    });
    const keyIds = [...new Set(gathered.rows.map((row) => row.key_id).filter((id) => id !== null))];
    const names = await this.keys.namesOf(owner.id, keyIds);
    const list: RequestList = {
      items: gathered.rows.map((row) => ({
        ...row,
        at: new Date(row.at).toISOString(),
        key_name: row.key_id === null ? null : (names.get(row.key_id) ?? null),
        captured: row.captured === true,
      })),
      nodes: {
        asked: gathered.asked,
        answered: gathered.asked - gathered.skipped.length,
        skipped: gathered.skipped,
      },
    };
    return ok(list);
  }
}
