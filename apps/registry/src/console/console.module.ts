import { Module } from '@nestjs/common';
import { InstancesModule } from '../instances/instances.module';
import { ConsoleController } from './console.controller';
import { PublicInstanceController } from './public-instance.controller';

/** The web console's static files and the one public read it needs beyond the upload API. */
@Module({
  imports: [InstancesModule],
  controllers: [ConsoleController, PublicInstanceController],
})
export class ConsoleModule {}
