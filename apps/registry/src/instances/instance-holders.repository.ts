import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';

/**
 * `instance_holders`: which node holds a serving host socket of which instance. Each node writes
 * only its own rows; readers count a row only while its node is alive.
 */
@Injectable()
export class InstanceHoldersRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** `modelDown`: every replica of the instance this node holds reports its model down. */
  async hold(instanceId: string, nodeId: string, modelDown = false): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO instance_holders (instance_id, node_id, model_down) VALUES (${instanceId}, ${nodeId}, ${modelDown})
      ON CONFLICT (instance_id, node_id) DO UPDATE SET model_down = EXCLUDED.model_down
      WHERE instance_holders.model_down <> EXCLUDED.model_down`;
  }

  async release(instanceId: string, nodeId: string): Promise<void> {
    await this.prisma.instanceHolder.deleteMany({ where: { instanceId, nodeId } });
  }

  /** Makes the node's rows exactly `instanceIds` (a safety net for a write that failed). */
  async resync(nodeId: string, instanceIds: string[]): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.$executeRaw`
        DELETE FROM instance_holders WHERE node_id = ${nodeId} AND NOT (instance_id = ANY(${instanceIds}::text[]))`,
      this.prisma.$executeRaw`
        INSERT INTO instance_holders (instance_id, node_id)
        SELECT i.id, ${nodeId} FROM instances i WHERE i.id = ANY(${instanceIds}::text[])
        ON CONFLICT DO NOTHING`,
    ]);
  }

  /** Everything a node held (it stopped, or has been dead for long). */
  async purgeNode(nodeId: string): Promise<void> {
    await this.prisma.instanceHolder.deleteMany({ where: { nodeId } });
  }

  /** Online instances, private ones included (operators' figure). */
  async countOnline(liveNodes: string[]): Promise<number> {
    const [{ count }] = await this.prisma.$queryRaw<[{ count: bigint }]>`
      SELECT count(DISTINCT instance_id) AS count FROM instance_holders WHERE node_id = ANY(${liveNodes}::text[])`;
    return Number(count);
  }
}
