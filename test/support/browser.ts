import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); CHROMIUM_PATH names another build. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Launches the system Chromium headless; fails with what to install rather than skipping the tests. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the browser tests need it. ` +
        'Install it with `apt-get install -y chromium` (Debian/Ubuntu) or set CHROMIUM_PATH.',
    );
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Collects what a user with the developer tools open would see as errors: uncaught exceptions and
 * console errors, except the browser's own note about a response status the test provoked on purpose.
 */
export function collectPageErrors(page: Page, expectedStatuses: number[] = []): string[] {
  const errors: string[] = [];
  const expected = expectedStatuses.map((s) => `the server responded with a status of ${s}`);
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (expected.some((text) => message.text().includes(text))) return;
    errors.push(`${page.url()}: ${message.text()}`);
  });
  return errors;
}
