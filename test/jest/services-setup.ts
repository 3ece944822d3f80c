// Jest globalSetup of the integration, end-to-end and fault projects: finds or starts PostgreSQL
// and Redis once per run (see test/support/test-services.ts), says which, and hands their URLs to
// the tests through TEST_POSTGRES_URL / TEST_REDIS_URL.
import { MissingServiceError, provideTestServices } from '../support/test-services';
import { RUNNING } from './services-state';

export default async function setup(): Promise<void> {
  // Each project that runs has this hook: the first one does the work.
  if (RUNNING.services) return;
  try {
    RUNNING.services = await provideTestServices();
  } catch (error) {
    // The message says what is missing and what to do; a stack trace would only bury it.
    if (error instanceof MissingServiceError) error.stack = `\n${error.message}\n`;
    throw error;
  }
  process.env.TEST_POSTGRES_URL = RUNNING.services.postgresUrl;
  process.env.TEST_REDIS_URL = RUNNING.services.redisUrl;
  process.stdout.write(`\n${RUNNING.services.report.map((line) => `test services: ${line}`).join('\n')}\n`);
}
