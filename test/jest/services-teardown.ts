// Jest globalTeardown: stops what services-setup started for this run.
import { RUNNING } from './services-state';

export default async function teardown(): Promise<void> {
  const services = RUNNING.services;
  RUNNING.services = null;
  await services?.stop();
}
