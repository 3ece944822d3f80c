import type { TestServices } from '../support/test-services';

/** Shared by globalSetup and globalTeardown, which Jest runs in one process (its main one). */
export const RUNNING: { services: TestServices | null } = ((
  globalThis as Record<string, unknown>
).__mregTestServices ??= { services: null }) as { services: TestServices | null };
