import type { HostConfig } from './config';
import type { Logger } from './logger';
import { probeRegistry, type ProbeOptions } from './registry-probe';
import {
  checkExitCode,
  registryCheck,
  upstreamChecks,
  type CheckResult,
  type ModelsOutcome,
} from './startup-checks';
import { describeUpstreamError, Upstream } from './upstream';

export interface CheckCommandOptions {
  logger: Logger;
  probe?: ProbeOptions;
}

/**
 * `--check`: every registry URL reachable and accepting the credentials, the upstream reachable,
 * serving models, serving --model. Prints a line per check and returns the exit code.
 */
export async function runChecks(config: HostConfig, options: CheckCommandOptions): Promise<number> {
  const upstream = new Upstream({ baseUrl: config.upstreamUrl, apiKey: config.upstreamKey });
  const models = upstream.listModels().then(
    (list): ModelsOutcome => ({ models: list }),
    (error: unknown): ModelsOutcome => ({ error: describeUpstreamError(error) }),
  );
  const registries = config.registryUrls.map(async (url) =>
    registryCheck(
      url,
      config.instanceId,
      await probeRegistry(url, config.instanceId, config.password, options.probe),
    ),
  );
  const results: CheckResult[] = [
    ...(await Promise.all(registries)),
    ...upstreamChecks(config.upstreamUrl, await models, config.model),
  ];
  upstream.close();
  for (const result of results) {
    if (result.ok) options.logger.info(`ok: ${result.line}`);
    else options.logger.error(result.line);
  }
  const code = checkExitCode(results);
  const failed = results.filter((r) => !r.ok).length;
  if (code === 0) options.logger.info('all checks passed');
  else options.logger.error(`${failed} check${failed === 1 ? '' : 's'} failed; exit code ${code}`);
  return code;
}
