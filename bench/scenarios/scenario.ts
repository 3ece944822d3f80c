import type { Deployment } from '../deployment';
import type { Settings } from '../settings';

/** What every scenario gets. */
export interface Scenario {
  settings: Settings;
  deployment: Deployment;
  /** A progress line on stderr (the table goes to stdout). */
  log: (line: string) => void;
}
