import { Module } from '@nestjs/common';
import { InstancesModule } from '../instances/instances.module';
import { KeysModule } from '../keys/keys.module';
import { BodyCapture } from './body-capture';
import { CaptureController } from './capture.controller';
import { ClusterBodies } from './cluster-bodies';
import { ClusterRequests } from './cluster-requests';
import { InspectorController } from './inspector.controller';
import { NodeRequestLog } from './node-request-log';

/** The owner's request inspector: each node's log of the requests it took, gathered on demand. */
@Module({
  imports: [InstancesModule, KeysModule],
  controllers: [InspectorController, CaptureController],
  providers: [NodeRequestLog, ClusterRequests, BodyCapture, ClusterBodies],
  exports: [NodeRequestLog, BodyCapture],
})
export class InspectorModule {}
