import { redactUrl } from '@app/common';

/**
 * What the agent checks before it can serve, and what it tells its owner when a check fails: one
 * table of failure classes (exit code under --check, what to do), and pure functions that turn
 * what was observed into one line per check. `--check` prints them and exits; a normal start
 * prints the failures and keeps going (see ModelDiscovery and decideReconnect).
 */

/** Every way a check can fail, in the order --check reports them; the first failure sets the exit code. */
export const CHECK_FAILURES = {
  registry_unreachable: {
    exitCode: 3,
    advice:
      'check --registry (REGISTRY_URL): the base URL of the registry you registered with, reachable from this machine',
  },
  credentials_refused: {
    exitCode: 1,
    advice:
      'check --instance (INSTANCE_ID) and the password (INSTANCE_PASSWORD or --password-file); ' +
      're-registering or rotating the password issues a new one',
  },
  upstream_unreachable: {
    exitCode: 4,
    advice:
      'start the model server, or set --upstream (UPSTREAM_URL) to its OpenAI-compatible base URL ' +
      '(Ollama http://127.0.0.1:11434/v1, LM Studio http://127.0.0.1:1234/v1, ' +
      'llama.cpp http://127.0.0.1:8080/v1, vLLM http://127.0.0.1:8000/v1)',
  },
  no_models: {
    exitCode: 5,
    advice:
      'load or pull a model on the model server (e.g. `ollama pull llama3.2`); callers cannot chat until it serves one',
  },
  model_missing: {
    exitCode: 6,
    advice: 'pull or load that model, or set --model (UPSTREAM_MODEL) to one the model server serves',
  },
} as const;

export type CheckFailure = keyof typeof CHECK_FAILURES;

export type CheckResult = { ok: true; line: string } | { ok: false; failure: CheckFailure; line: string };

const pass = (line: string): CheckResult => ({ ok: true, line });
const fail = (failure: CheckFailure, what: string): CheckResult => ({
  ok: false,
  failure,
  line: `${what} — ${CHECK_FAILURES[failure].advice}`,
});

/** `what` followed by the advice for its class: the one line a person reads. */
export const withAdvice = (failure: CheckFailure, what: string): string => fail(failure, what).line;

/** The exit code of `--check`: 0 when every check passed, else the first failure's. */
export function checkExitCode(results: readonly CheckResult[]): number {
  const failed = results.find((r) => !r.ok);
  return failed && !failed.ok ? CHECK_FAILURES[failed.failure].exitCode : 0;
}

/** What asking the upstream for its models gave. */
export type ModelsOutcome = { models: readonly string[] } | { error: string };

/** Long lists are cut: a model server may serve hundreds. */
function listModels(models: readonly string[], max = 8): string {
  const shown = models.slice(0, max).join(', ');
  return models.length > max ? `${shown} and ${models.length - max} more` : shown;
}

/** Upstream reachable, serving models, serving `--model`: a line each, stopping at the first failure. */
export function upstreamChecks(baseUrl: string, outcome: ModelsOutcome, model?: string): CheckResult[] {
  if ('error' in outcome)
    return [
      fail('upstream_unreachable', `cannot list the models of the upstream at ${baseUrl} (${outcome.error})`),
    ];
  const { models } = outcome;
  if (models.length === 0)
    return [fail('no_models', `the upstream at ${baseUrl} answers but serves no models`)];
  const results = [pass(`upstream ${baseUrl} serves ${listModels(models)}`)];
  if (model !== undefined)
    results.push(
      models.includes(model)
        ? pass(`--model ${model} is among them`)
        : fail(
            'model_missing',
            `--model ${model} is not served by the upstream (it serves ${listModels(models)})`,
          ),
    );
  return results;
}

/** What the registry said to an authenticated read of the instance (see probeRegistry). */
export type RegistryProbe =
  | { kind: 'accepted' }
  | { kind: 'unauthorized' }
  | { kind: 'not_found' }
  | { kind: 'too_many_failures' }
  | { kind: 'unreachable'; error: string }
  /** An answer that is not the registry's: a wrong URL, a proxy's error page. */
  | { kind: 'unexpected'; status: number; location?: string };

export function registryCheck(registryUrl: string, instanceId: string, probe: RegistryProbe): CheckResult {
  switch (probe.kind) {
    case 'accepted':
      return pass(`registry ${registryUrl} accepts instance ${instanceId} and its password`);
    case 'unauthorized':
      return fail(
        'credentials_refused',
        `registry ${registryUrl} refused the password of instance ${instanceId}`,
      );
    case 'not_found':
      return fail(
        'credentials_refused',
        `registry ${registryUrl} has no instance ${instanceId} (deleted, or registered on another registry?)`,
      );
    case 'too_many_failures':
      return fail(
        'credentials_refused',
        `registry ${registryUrl} refuses instance ${instanceId} for now: too many wrong passwords in the last minute`,
      );
    case 'unreachable':
      return fail('registry_unreachable', `cannot reach the registry at ${registryUrl} (${probe.error})`);
    case 'unexpected':
      return fail(
        'registry_unreachable',
        `${registryUrl} answered HTTP ${probe.status}` +
          (probe.location ? ` with a redirect to ${redactUrl(probe.location)}` : '') +
          ', not as a model registry does',
      );
  }
}
