#!/usr/bin/env node
/**
 * model-registry-agent: connects a local OpenAI-compatible model server to a model registry.
 * Wires configuration -> agent (or --check) -> signals; everything else lives in HostAgent.
 */
import { runChecks } from './check-command';
import { parseConfig } from './config';
import { HostAgent } from './host-agent';
import { createConsoleLogger } from './logger';

function main(): void {
  const parsed = parseConfig(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(`${parsed.text}\n`);
    process.exit(0);
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`error: ${parsed.message}\n\nRun with --help for usage.\n`);
    process.exit(2);
  }
  const config = parsed.config;
  const logger = createConsoleLogger({ level: config.verbose ? 'debug' : 'info', format: config.logFormat });
  if (parsed.check) {
    void runChecks(config, { logger }).then((code) => process.exit(code));
    return;
  }
  const agent = new HostAgent(config, { logger });

  let signals = 0;
  const onSignal = (name: string) => {
    signals++;
    if (signals > 1) {
      logger.warn(`${name} again; exiting now`);
      process.exit(130);
    }
    logger.info(`${name} received; closing the connection`);
    void agent.stop();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  void agent.finished.then((exit) => process.exit(exit.kind === 'fatal' ? 1 : 0));

  logger.info(
    `model-registry-agent: instance ${config.instanceId}, replica ${config.replica}, ` +
      `registry ${config.registryUrls.join(', ')}, ` +
      `upstream ${config.upstreamUrl}, concurrency ${config.concurrency}`,
  );
  agent.start();
}

main();
