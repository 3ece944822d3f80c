import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  ConfigError,
  MAX_HOST_CONCURRENCY,
  parseBoolSetting,
  parseChoiceSetting,
  parseIntSetting,
  redactUrl,
} from '@app/common';
import { isReplicaName, PASSTHROUGH_ENDPOINTS, type PassthroughEndpoint } from '@app/protocol';
import { defaultReplicaName } from './replica-name';
import type { RequestPolicy } from './request-policy';

/** Everything the agent needs, already validated. */
export interface HostConfig extends RequestPolicy {
  /** Registry base URLs (http, https, ws or wss), no trailing slash; tried in turn on reconnect. */
  registryUrls: string[];
  instanceId: string;
  /**
   * Which replica of the instance this agent is (REPLICA_NAME). Agents with different names serve
   * the instance side by side; a newer connection under the same name replaces the older one.
   */
  replica: string;
  /** The instance secret. Never log it, never put it in a URL. */
  password: string;
  /** OpenAI-compatible base URL of the model server, no trailing slash (e.g. http://127.0.0.1:11434/v1). */
  upstreamUrl: string;
  /** Bearer token for the upstream, if it needs one. */
  upstreamKey?: string;
  /** Chats served at once; more are refused with "host busy". */
  concurrency: number;
  /**
   * The endpoints besides chat this agent announces in its hello and serves (--endpoints): the
   * registry sends no others, and the agent refuses any other it is sent.
   */
  endpoints: PassthroughEndpoint[];
  /** Model used when a request names none (otherwise the upstream's first model); the only one with pinModel. */
  model?: string;
  /** JSON heartbeat period. */
  heartbeatMs: number;
  /** Native ping period; a ping left without a pong until the next one drops the socket. */
  pingMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** A connection that lived this long resets the backoff. */
  stableMs: number;
  /** How often the model server is probed (0: never; the registry then sees no model status). */
  healthIntervalMs: number;
  /** What is probed: a path under the upstream base URL (default /models). */
  healthPath: string;
  /** A probe without an answer within this long counts as unreachable. */
  healthTimeoutMs: number;
  /** Print debug lines. */
  verbose: boolean;
  /** `text` for people, `json` (one object per line, the registry's fields) for log pipelines. */
  logFormat: LogFormat;
}

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const DEFAULT_UPSTREAM = 'http://127.0.0.1:11434/v1';

export const defaults = {
  upstreamUrl: DEFAULT_UPSTREAM,
  concurrency: 8,
  heartbeatMs: 30_000,
  pingMs: 15_000,
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
  stableMs: 10_000,
  maxN: 1,
  healthIntervalS: 5,
  healthPath: '/models',
  healthTimeoutMs: 3_000,
} as const;

/** Endpoints served only when --endpoints names them (audio may be more than an owner expects). */
const OFF_BY_DEFAULT: ReadonlySet<string> = new Set(['transcriptions']);
/** What the agent serves besides chat without --endpoints: every endpoint it knows but those above. */
export const DEFAULT_ENDPOINTS: readonly PassthroughEndpoint[] = PASSTHROUGH_ENDPOINTS.filter(
  (endpoint) => !OFF_BY_DEFAULT.has(endpoint),
);

const MAX_TOKENS_LIMIT = 10_000_000;
const MAX_N_LIMIT = 128;

export const USAGE = `Usage: node agent.mjs --registry <url> --instance <id> [options]
       (or: npx model-registry-agent ..., or npm run host -- ... in a checkout)

Connects a local OpenAI-compatible model server to a model registry, so the model answers at
<registry>/api/chat/<instance id>. The agent dials out (no open port needed) and reconnects
by itself. Every option can also be given as the environment variable in brackets.

Required:
  --registry <url>         Registry base URL: http, https, ws or wss. Several URLs separated
                           by commas are tried in turn when reconnecting.   [REGISTRY_URL]
  --instance <id>          Instance id from registration.                   [INSTANCE_ID]
  The instance password, from one of:
                           the environment variable                         [INSTANCE_PASSWORD]
  --password-file <path>   a file's first line (readable by you only)       [INSTANCE_PASSWORD_FILE]
  --password <secret>      the command line: avoid it, command lines are
                           visible to other users of this machine (and
                           npm run prints them).

Options:
  --upstream <url>         Base URL of the model server                     [UPSTREAM_URL]
                           (default ${DEFAULT_UPSTREAM}, Ollama).
  --upstream-key <key>     Bearer token for the model server, if needed.    [UPSTREAM_API_KEY]
  --replica <name>         Names this agent among the instance's agents:    [HOST_REPLICA]
                           different names serve side by side, the same
                           name replaces (a restart). 1-64 letters, digits,
                           ".", "_", "-" (letter or digit first). Default:
                           <hostname>-<6 hex of sha256(upstream URL)>,
                           stable across restarts.
  --concurrency <n>        Chats served at once, 1-${MAX_HOST_CONCURRENCY} (default ${defaults.concurrency}).        [HOST_CONCURRENCY]
  --model <name>           Model for requests that name none (default: the  [UPSTREAM_MODEL]
                           model server's first model).
  --pin-model              Every request uses --model, whatever the caller  [HOST_PIN_MODEL=1]
                           asked for (needs --model).
  --max-tokens <n>         Caps max_tokens / max_completion_tokens (and     [HOST_MAX_TOKENS]
                           n_predict); a request without one gets <n>.
                           Default: no cap.
  --max-n <n>              Caps the answers per request (n, best_of),       [HOST_MAX_N]
                           1-${MAX_N_LIMIT} (default ${defaults.maxN}).
  --allow-upstream-overrides
                           Keep the body fields that could switch the model [HOST_ALLOW_UPSTREAM_OVERRIDES=1]
                           server's credentials or target (api_key,
                           api_base, base_url, extra_headers, aws_*, ...);
                           dropped by default, see docs/configuration.md.
  --endpoints <list>       The endpoints besides chat this agent serves,    [HOST_ENDPOINTS]
                           comma-separated, from: ${PASSTHROUGH_ENDPOINTS.join(', ')}
                           (default: ${DEFAULT_ENDPOINTS.join(', ')});
                           "chat" alone: chat only. Callers of the others
                           get 501 endpoint_not_supported.
  --health-interval <s>    Probe the model server every <s> seconds, 0-3600 [HOST_HEALTH_INTERVAL]
                           (default ${defaults.healthIntervalS}; 0: never) and tell the registry when
                           it stops or starts answering: while it does not,
                           callers get 503 model_unreachable (or another
                           replica) instead of an error from the model.
  --health-path <path>     What the probe asks for: GET <upstream><path>    [HOST_HEALTH_PATH]
                           (default ${defaults.healthPath}); any 2xx answer is healthy.
  --log-format <text|json> json: one JSON object per line (default text).   [LOG_FORMAT]
  --verbose                Print debug lines.                               [HOST_VERBOSE=1]
  --check                  Check the registry (reachable, id and password
                           accepted) and the model server (reachable, serves
                           models, serves --model), print a line each and
                           exit: 0 if all passed, else the first failure's
                           code below.
  -h, --help               Show this help.

Yes/no variables take 1/true/yes or 0/false/no.
Tuning, in milliseconds (environment only): HOST_HEARTBEAT_MS (${defaults.heartbeatMs}),
HOST_PING_MS (${defaults.pingMs}), HOST_BACKOFF_BASE_MS (${defaults.backoffBaseMs}), HOST_BACKOFF_CAP_MS (${defaults.backoffCapMs}),
HOST_STABLE_MS (${defaults.stableMs}), HOST_HEALTH_TIMEOUT_MS (${defaults.healthTimeoutMs}).

At start the agent says what is wrong (registry unreachable, password refused, model server
unreachable, no models, --model missing), one line each with what to do, and keeps retrying;
only a refusal by the registry stops it.

Exit codes: 0 stopped with Ctrl-C or SIGTERM (or --check passed); 1 refused by the registry
(wrong id or password, instance deleted, another agent took this replica over); 2 invalid
options; --check only: 3 registry unreachable, 4 model server unreachable, 5 model server
serves no models, 6 --model not served.`;

export type ConfigResult =
  /** `check`: run the start-up checks, print them and exit (--check) instead of serving. */
  | { kind: 'ok'; config: HostConfig; check: boolean }
  | { kind: 'help'; text: string }
  | { kind: 'error'; message: string };

type FlagName =
  | 'registry'
  | 'instance'
  | 'replica'
  | 'password'
  | 'password-file'
  | 'upstream'
  | 'upstream-key'
  | 'concurrency'
  | 'model'
  | 'max-tokens'
  | 'max-n'
  | 'endpoints'
  | 'health-interval'
  | 'health-path'
  | 'log-format';

const valueFlags: ReadonlySet<string> = new Set<FlagName>([
  'registry',
  'instance',
  'replica',
  'password',
  'password-file',
  'upstream',
  'upstream-key',
  'concurrency',
  'model',
  'max-tokens',
  'max-n',
  'endpoints',
  'health-interval',
  'health-path',
  'log-format',
]);

/** Flags without a value, and the variable that sets each (yes/no, read as the registry reads them). */
const switchEnvNames = {
  verbose: 'HOST_VERBOSE',
  'pin-model': 'HOST_PIN_MODEL',
  'allow-upstream-overrides': 'HOST_ALLOW_UPSTREAM_OVERRIDES',
} as const;
type SwitchName = keyof typeof switchEnvNames;
const isSwitch = (name: string): name is SwitchName => Object.hasOwn(switchEnvNames, name);

const envNames: Record<FlagName, string> = {
  registry: 'REGISTRY_URL',
  instance: 'INSTANCE_ID',
  replica: 'HOST_REPLICA',
  password: 'INSTANCE_PASSWORD',
  'password-file': 'INSTANCE_PASSWORD_FILE',
  upstream: 'UPSTREAM_URL',
  'upstream-key': 'UPSTREAM_API_KEY',
  concurrency: 'HOST_CONCURRENCY',
  model: 'UPSTREAM_MODEL',
  'max-tokens': 'HOST_MAX_TOKENS',
  'max-n': 'HOST_MAX_N',
  endpoints: 'HOST_ENDPOINTS',
  'health-interval': 'HOST_HEALTH_INTERVAL',
  'health-path': 'HOST_HEALTH_PATH',
  'log-format': 'LOG_FORMAT',
};

export interface ParseOptions {
  /** Reads --password-file; injectable for tests. */
  readFile?: (path: string) => string;
  /** This machine's name, for the default replica name; injectable for tests. */
  hostname?: () => string;
}

/**
 * Parses command-line arguments (without `node` and the script) and environment variables.
 * Flags win over the environment. Accepts `--flag value` and `--flag=value`.
 */
export function parseConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  options: ParseOptions = {},
): ConfigResult {
  try {
    const flags = new Map<string, string>();
    const switches = new Set<SwitchName>();
    let check = false;
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (arg === '-h' || arg === '--help') return { kind: 'help', text: USAGE };
      if (arg === '--check') {
        check = true;
        continue;
      }
      if (arg.startsWith('--') && isSwitch(arg.slice(2))) {
        switches.add(arg.slice(2) as SwitchName);
        continue;
      }
      if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}"`);
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (!valueFlags.has(name)) throw new ConfigError(`unknown option --${name}`);
      let value: string;
      if (eq !== -1) {
        value = arg.slice(eq + 1);
      } else {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2)) {
          throw new ConfigError(`--${name} needs a value`);
        }
        value = next;
        i++;
      }
      if (flags.has(name)) throw new ConfigError(`--${name} given twice`);
      flags.set(name, value);
    }

    const get = (name: FlagName): string | undefined => {
      const fromFlag = flags.get(name);
      if (fromFlag !== undefined) return fromFlag.trim();
      const fromEnv = env[envNames[name]];
      return fromEnv === undefined || fromEnv.trim() === '' ? undefined : fromEnv.trim();
    };
    const required = (name: FlagName): string => {
      const value = get(name);
      if (value === undefined || value === '') {
        throw new ConfigError(`missing --${name} (or ${envNames[name]})`);
      }
      return value;
    };

    const registryUrls = required('registry')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(normalizeRegistryUrl);
    if (registryUrls.length === 0) throw new ConfigError('missing --registry (or REGISTRY_URL)');

    const instanceId = required('instance');
    // The Bearer credential is "<id>:<password>": an id with ':' or spaces could not be parsed back.
    if (/[\s:]/.test(instanceId)) throw new ConfigError('--instance must not contain ":" or spaces');

    const password = readPassword(get('password'), get('password-file'), options.readFile);
    if (/\s/.test(password)) throw new ConfigError('the password must not contain spaces');

    const upstreamUrl = normalizeHttpUrl(get('upstream') ?? DEFAULT_UPSTREAM, '--upstream');
    const concurrency = parseIntOption(
      get('concurrency'),
      '--concurrency',
      defaults.concurrency,
      1,
      MAX_HOST_CONCURRENCY,
    );
    const replica = readReplica(get('replica'), upstreamUrl, options.hostname ?? hostname);
    const upstreamKey = get('upstream-key');
    const model = get('model');
    const on = (name: SwitchName) =>
      switches.has(name) || parseBoolSetting(switchEnvNames[name], env[switchEnvNames[name]], false);
    const pinModel = on('pin-model');
    if (pinModel && model === undefined) {
      throw new ConfigError('--pin-model needs --model (or UPSTREAM_MODEL): the model to pin');
    }
    const maxTokensRaw = get('max-tokens');
    const maxTokens =
      maxTokensRaw === undefined
        ? undefined
        : parseIntOption(maxTokensRaw, '--max-tokens', 0, 1, MAX_TOKENS_LIMIT);
    const maxN = parseIntOption(get('max-n'), '--max-n', defaults.maxN, 1, MAX_N_LIMIT);

    const envMs = (name: string, fallback: number, min: number) =>
      parseIntOption(env[name]?.trim() || undefined, name, fallback, min, 24 * 3600_000);
    const backoffBaseMs = envMs('HOST_BACKOFF_BASE_MS', defaults.backoffBaseMs, 1);
    const backoffCapMs = envMs('HOST_BACKOFF_CAP_MS', Math.max(defaults.backoffCapMs, backoffBaseMs), 1);
    if (backoffCapMs < backoffBaseMs)
      throw new ConfigError('HOST_BACKOFF_CAP_MS must be >= HOST_BACKOFF_BASE_MS');

    return {
      kind: 'ok',
      check,
      config: {
        registryUrls,
        instanceId,
        replica,
        password,
        upstreamUrl,
        upstreamKey,
        concurrency,
        endpoints: readEndpoints(get('endpoints')),
        model,
        pinModel,
        maxTokens,
        maxN,
        allowUpstreamOverrides: on('allow-upstream-overrides'),
        heartbeatMs: envMs('HOST_HEARTBEAT_MS', defaults.heartbeatMs, 10),
        pingMs: envMs('HOST_PING_MS', defaults.pingMs, 10),
        backoffBaseMs,
        backoffCapMs,
        stableMs: envMs('HOST_STABLE_MS', defaults.stableMs, 0),
        healthIntervalMs:
          parseIntOption(get('health-interval'), '--health-interval', defaults.healthIntervalS, 0, 3600) *
          1000,
        healthPath: readHealthPath(get('health-path')),
        healthTimeoutMs: envMs('HOST_HEALTH_TIMEOUT_MS', defaults.healthTimeoutMs, 100),
        verbose: on('verbose'),
        logFormat: parseChoiceSetting('--log-format (LOG_FORMAT)', get('log-format'), LOG_FORMATS, 'text'),
      },
    };
  } catch (e) {
    if (e instanceof ConfigError) return { kind: 'error', message: e.message };
    throw e;
  }
}

/**
 * --endpoints: names separated by commas (spaces allowed), each one the agent knows; "chat" is
 * always served and may be named (alone: chat only). Unset: DEFAULT_ENDPOINTS.
 */
function readEndpoints(given: string | undefined): PassthroughEndpoint[] {
  if (given === undefined) return [...DEFAULT_ENDPOINTS];
  const names = given
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const known = (name: string): name is PassthroughEndpoint =>
    (PASSTHROUGH_ENDPOINTS as readonly string[]).includes(name);
  const unknown = names.filter((name) => name !== 'chat' && !known(name));
  if (names.length === 0 || unknown.length > 0)
    throw new ConfigError(
      `--endpoints (HOST_ENDPOINTS) takes names separated by commas from: chat, ${PASSTHROUGH_ENDPOINTS.join(', ')}` +
        (unknown.length > 0 ? `; unknown: ${unknown.slice(0, 5).join(', ').slice(0, 200)}` : '; got none'),
    );
  return PASSTHROUGH_ENDPOINTS.filter((endpoint) => names.includes(endpoint));
}

/** A path under the upstream base URL: `/` first, no spaces, no `..`, at most 200 characters. */
function readHealthPath(given: string | undefined): string {
  if (given === undefined) return defaults.healthPath;
  if (!/^\/[\x21-\x7e]{0,199}$/.test(given) || given.includes('..'))
    throw new ConfigError(
      `--health-path (HOST_HEALTH_PATH) must be a path under the upstream URL starting with "/" ` +
        `(e.g. /models), without spaces or "..", at most 200 characters; got "${given.slice(0, 200)}"`,
    );
  return given;
}

/** The given name, checked against REPLICA_NAME, or the machine-derived default. */
function readReplica(given: string | undefined, upstreamUrl: string, machine: () => string): string {
  if (given === undefined) return defaultReplicaName(machine(), upstreamUrl);
  if (!isReplicaName(given)) {
    throw new ConfigError(
      `--replica (HOST_REPLICA) must be 1-64 characters: letters, digits, ".", "_" or "-", ` +
        `starting with a letter or digit; got "${given}"`,
    );
  }
  return given;
}

function readPassword(
  direct: string | undefined,
  file: string | undefined,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string {
  if (direct !== undefined && direct !== '') return direct;
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFile(file);
    } catch (e) {
      throw new ConfigError(`cannot read --password-file ${file}: ${(e as Error).message}`);
    }
    const first = text.split(/\r?\n/)[0].trim();
    if (first === '') throw new ConfigError(`--password-file ${file} is empty`);
    return first;
  }
  throw new ConfigError(
    'missing the password: set INSTANCE_PASSWORD, or --password-file (INSTANCE_PASSWORD_FILE) naming a file that holds it',
  );
}

const parseIntOption = (raw: string | undefined, name: string, fallback: number, min: number, max: number) =>
  parseIntSetting(name, raw, fallback, min, max);

function parseUrl(raw: string, what: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new ConfigError(`${what} is not a valid URL: "${redactUrl(raw)}"`);
  }
}

/** Registry base URL: http(s) or ws(s); query, fragment and user info are refused (no secrets in URLs). */
export function normalizeRegistryUrl(raw: string): string {
  const url = parseUrl(raw, '--registry');
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new ConfigError(`--registry must be an http, https, ws or wss URL, got "${url.protocol}"`);
  }
  if (url.username || url.password) {
    throw new ConfigError(
      '--registry must not contain a user name or password; use --instance and --password',
    );
  }
  if (url.search || url.hash) throw new ConfigError('--registry must not contain a query string or fragment');
  return url.toString().replace(/\/+$/, '');
}

function normalizeHttpUrl(raw: string, what: string): string {
  const url = parseUrl(raw, what);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${what} must be an http or https URL, got "${url.protocol}"`);
  }
  return url.toString().replace(/\/+$/, '');
}
