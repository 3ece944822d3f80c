import { DEFAULT_ENDPOINTS, parseConfig, type ConfigResult, type HostConfig } from './config';
import { defaultReplicaName } from './replica-name';

const base = ['--registry', 'http://localhost:3000', '--instance', 'inst_1', '--password', 's3cret'];

function ok(result: ConfigResult): HostConfig {
  if (result.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.config;
}

function error(result: ConfigResult): string {
  if (result.kind !== 'error') throw new Error(`expected an error, got ${result.kind}`);
  return result.message;
}

describe('parseConfig', () => {
  it('reads the required flags and fills defaults', () => {
    const c = ok(parseConfig(base, {}));
    expect(c).toMatchObject({
      registryUrls: ['http://localhost:3000'],
      instanceId: 'inst_1',
      password: 's3cret',
      upstreamUrl: 'http://127.0.0.1:11434/v1',
      concurrency: 8,
      heartbeatMs: 30_000,
      pingMs: 15_000,
      backoffBaseMs: 500,
      backoffCapMs: 30_000,
      stableMs: 10_000,
      verbose: false,
      pinModel: false,
      maxN: 1,
      allowUpstreamOverrides: false,
    });
    expect(c.upstreamKey).toBeUndefined();
    expect(c.model).toBeUndefined();
    expect(c.maxTokens).toBeUndefined();
  });

  it('probes the model server every 5 s at /models by default; --health-interval, --health-path and their variables change it', () => {
    expect(ok(parseConfig(base, {}))).toMatchObject({
      healthIntervalMs: 5_000,
      healthPath: '/models',
      healthTimeoutMs: 3_000,
    });
    expect(
      ok(
        parseConfig([...base, '--health-interval', '0', '--health-path=/health'], {
          HOST_HEALTH_TIMEOUT_MS: '500',
        }),
      ),
    ).toMatchObject({ healthIntervalMs: 0, healthPath: '/health', healthTimeoutMs: 500 });
    expect(ok(parseConfig(base, { HOST_HEALTH_INTERVAL: '2', HOST_HEALTH_PATH: '/api/tags' }))).toMatchObject(
      {
        healthIntervalMs: 2_000,
        healthPath: '/api/tags',
      },
    );
    expect(error(parseConfig([...base, '--health-interval', '-1'], {}))).toMatch(/--health-interval/);
    for (const path of ['models', '/a b', '/../admin', `/${'x'.repeat(300)}`])
      expect(error(parseConfig([...base, '--health-path', path], {}))).toMatch(
        /--health-path \(HOST_HEALTH_PATH\) must be a path/,
      );
  });

  it('accepts --flag=value and all options', () => {
    const c = ok(
      parseConfig(
        [
          '--registry=https://reg.example.com/base/',
          '--instance=abc',
          '--replica=gpu-a',
          '--password=p',
          '--upstream=http://127.0.0.1:8080/v1/',
          '--upstream-key=sk-1',
          '--concurrency=3',
          '--model=llama3',
          '--pin-model',
          '--max-tokens=512',
          '--max-n=2',
          '--allow-upstream-overrides',
          '--verbose',
        ],
        {},
      ),
    );
    expect(c.registryUrls).toEqual(['https://reg.example.com/base']);
    expect(c.upstreamUrl).toBe('http://127.0.0.1:8080/v1');
    expect(c).toMatchObject({
      replica: 'gpu-a',
      upstreamKey: 'sk-1',
      concurrency: 3,
      model: 'llama3',
      pinModel: true,
      maxTokens: 512,
      maxN: 2,
      allowUpstreamOverrides: true,
      verbose: true,
    });
  });

  it('takes everything from the environment, flags winning', () => {
    const env = {
      REGISTRY_URL: 'ws://a:1, wss://b:2',
      INSTANCE_ID: 'env-id',
      HOST_REPLICA: 'env-replica',
      INSTANCE_PASSWORD: 'env-pw',
      UPSTREAM_URL: 'http://u:1/v1',
      UPSTREAM_API_KEY: 'k',
      HOST_CONCURRENCY: '16',
      UPSTREAM_MODEL: 'm',
      HOST_PIN_MODEL: 'true',
      HOST_MAX_TOKENS: '100',
      HOST_MAX_N: '3',
      HOST_ALLOW_UPSTREAM_OVERRIDES: '1',
      HOST_VERBOSE: '1',
      HOST_HEARTBEAT_MS: '100',
      HOST_PING_MS: '50',
      HOST_BACKOFF_BASE_MS: '10',
      HOST_BACKOFF_CAP_MS: '200',
      HOST_STABLE_MS: '0',
    };
    const c = ok(parseConfig([], env));
    expect(c).toMatchObject({
      registryUrls: ['ws://a:1', 'wss://b:2'],
      instanceId: 'env-id',
      replica: 'env-replica',
      password: 'env-pw',
      upstreamUrl: 'http://u:1/v1',
      upstreamKey: 'k',
      concurrency: 16,
      model: 'm',
      pinModel: true,
      maxTokens: 100,
      maxN: 3,
      allowUpstreamOverrides: true,
      verbose: true,
      heartbeatMs: 100,
      pingMs: 50,
      backoffBaseMs: 10,
      backoffCapMs: 200,
      stableMs: 0,
    });
    expect(
      ok(parseConfig(['--instance', 'flag-id', '--concurrency', '2', '--replica', 'flag-replica'], env)),
    ).toMatchObject({
      instanceId: 'flag-id',
      concurrency: 2,
      replica: 'flag-replica',
    });
  });

  describe('the replica name', () => {
    const machine = { hostname: () => 'GPU Box' };

    it('defaults to the machine-derived name for this hostname and upstream', () => {
      const c = ok(parseConfig([...base, '--upstream', 'http://127.0.0.1:8080/v1/'], {}, machine));
      expect(c.replica).toBe(defaultReplicaName('GPU Box', 'http://127.0.0.1:8080/v1'));
      expect(c.replica).toMatch(/^gpu-box-[0-9a-f]{6}$/);
      // Another model server on the same machine is another replica.
      expect(ok(parseConfig(base, {}, machine)).replica).not.toBe(c.replica);
      // An empty variable counts as unset.
      expect(ok(parseConfig(base, { HOST_REPLICA: ' ' }, machine)).replica).toBe(
        ok(parseConfig(base, {}, machine)).replica,
      );
    });

    it('takes a valid name as given', () => {
      for (const name of ['gpu-a', 'A', 'node_7.rack-2', 'x'.repeat(64)]) {
        expect(ok(parseConfig([...base, '--replica', name], {}, machine)).replica).toBe(name);
      }
    });

    it.each([
      ['empty', ''],
      ['with a space', 'gpu a'],
      ['starting with a separator', '-gpu'],
      ['with a slash', 'gpu/a'],
      ['not ASCII', 'gpü'],
      ['longer than 64 characters', 'x'.repeat(65)],
    ])('refuses a name %s, naming the rule', (_what, name) => {
      const message = error(parseConfig([...base, `--replica=${name}`], {}, machine));
      expect(message).toContain('--replica (HOST_REPLICA) must be 1-64 characters');
      expect(message).toContain('starting with a letter or digit');
      expect(error(parseConfig(base, { HOST_REPLICA: `${name}/` }, machine))).toContain('--replica');
    });

    it('is documented in --help', () => {
      const help = parseConfig(['--help'], {});
      expect(help.kind === 'help' && help.text).toMatch(/--replica <name>.*\[HOST_REPLICA\]/);
    });
  });

  it('serves every endpoint it knows by default; --endpoints or HOST_ENDPOINTS picks some, "chat" alone none', () => {
    expect(ok(parseConfig(base, {})).endpoints).toEqual([...DEFAULT_ENDPOINTS]);
    expect(DEFAULT_ENDPOINTS).toEqual(['embeddings', 'completions', 'responses', 'messages', 'rerank']);
    expect(ok(parseConfig([...base, '--endpoints', 'rerank, embeddings'], {})).endpoints).toEqual([
      'embeddings',
      'rerank',
    ]);
    expect(ok(parseConfig(base, { HOST_ENDPOINTS: 'messages' })).endpoints).toEqual(['messages']);
    expect(ok(parseConfig([...base, '--endpoints=chat'], { HOST_ENDPOINTS: 'rerank' })).endpoints).toEqual(
      [],
    );
    expect(error(parseConfig([...base, '--endpoints', 'embeddings,audio/speech'], {}))).toBe(
      '--endpoints (HOST_ENDPOINTS) takes names separated by commas from: chat, embeddings, completions, responses, messages, rerank, transcriptions; unknown: audio/speech',
    );
    expect(error(parseConfig([...base, '--endpoints', ' , '], {}))).toContain('got none');
  });

  it('splits a comma-separated registry list', () => {
    const c = ok(
      parseConfig(['--registry', 'http://a:1,http://b:2/,,', '--instance', 'i', '--password', 'p'], {}),
    );
    expect(c.registryUrls).toEqual(['http://a:1', 'http://b:2']);
  });

  it('reads the password from a file', () => {
    const c = ok(
      parseConfig(
        ['--registry', 'http://a', '--instance', 'i', '--password-file', '/pw'],
        {},
        {
          readFile: (p) => (p === '/pw' ? 'from-file\nignored\n' : ''),
        },
      ),
    );
    expect(c.password).toBe('from-file');
  });

  it('returns help for --help and -h', () => {
    expect(parseConfig(['--help'], {}).kind).toBe('help');
    const help = parseConfig(['--registry', 'x', '-h'], {});
    expect(help.kind === 'help' && help.text).toContain('--registry');
  });

  it.each([
    [[], 'missing --registry'],
    [['--instance', 'i', '--password', 'p'], 'missing --registry'],
    [['--registry', 'http://a', '--password', 'p'], 'missing --instance'],
    [
      ['--registry', 'http://a', '--instance', 'i'],
      'missing the password: set INSTANCE_PASSWORD, or --password-file',
    ],
    [[...base, '--log-format', 'xml'], '--log-format (LOG_FORMAT) must be one of text, json'],
    [[...base, '--concurrency', '0'], '--concurrency must be between 1 and 1024'],
    [[...base, '--concurrency', 'many'], '--concurrency must be a whole number'],
    [[...base, '--concurrency'], '--concurrency needs a value'],
    [[...base, '--model', '--verbose'], '--model needs a value'],
    [[...base, '--bogus', '1'], 'unknown option --bogus'],
    [[...base, 'extra'], 'unexpected argument "extra"'],
    [[...base, '--instance', 'again'], '--instance given twice'],
    [['--registry', 'ftp://a', '--instance', 'i', '--password', 'p'], 'http, https, ws or wss'],
    [['--registry', 'not a url', '--instance', 'i', '--password', 'p'], 'not a valid URL'],
    [['--registry', 'http://u:pw@a', '--instance', 'i', '--password', 'p'], 'must not contain a user name'],
    [['--registry', 'http://a/?password=x', '--instance', 'i', '--password', 'p'], 'query string'],
    [['--registry', 'http://a', '--instance', 'a:b', '--password', 'p'], 'must not contain ":"'],
    [['--registry', 'http://a', '--instance', 'i', '--password', 'p w'], 'must not contain spaces'],
    [[...base, '--upstream', 'ws://x'], '--upstream must be an http or https URL'],
    [[...base, '--pin-model'], '--pin-model needs --model'],
    [[...base, '--max-tokens', '0'], '--max-tokens must be between 1 and'],
    [[...base, '--max-tokens', 'lots'], '--max-tokens must be a whole number'],
    [[...base, '--max-n', '0'], '--max-n must be between 1 and 128'],
  ])('rejects %j (%s)', (argv, message) => {
    expect(error(parseConfig(argv as string[], {}))).toContain(message);
  });

  it('reads yes/no variables as the registry does (1/true/yes, 0/false/no) and names one that is neither', () => {
    expect(ok(parseConfig(base, { HOST_PIN_MODEL: 'yes', UPSTREAM_MODEL: 'm' })).pinModel).toBe(true);
    expect(ok(parseConfig(base, { HOST_VERBOSE: 'YES' })).verbose).toBe(true);
    expect(ok(parseConfig(base, { HOST_ALLOW_UPSTREAM_OVERRIDES: 'no' })).allowUpstreamOverrides).toBe(false);
    expect(ok(parseConfig(base, { HOST_ALLOW_UPSTREAM_OVERRIDES: '0' })).allowUpstreamOverrides).toBe(false);
    expect(error(parseConfig(base, { HOST_PIN_MODEL: 'sure', UPSTREAM_MODEL: 'm' }))).toContain(
      'HOST_PIN_MODEL must be true or false (also 1/0, yes/no), got "sure"',
    );
  });

  it('reads --check as a mode, and the log format from --log-format or LOG_FORMAT', () => {
    const checked = parseConfig([...base, '--check'], {});
    expect(checked.kind === 'ok' && checked.check).toBe(true);
    const served = parseConfig(base, {});
    expect(served.kind === 'ok' && served.check).toBe(false);
    expect(ok(parseConfig(base, {})).logFormat).toBe('text');
    expect(ok(parseConfig(base, { LOG_FORMAT: 'json' })).logFormat).toBe('json');
    expect(ok(parseConfig([...base, '--log-format=json'], { LOG_FORMAT: 'text' })).logFormat).toBe('json');
  });

  it('lists the request limits in --help', () => {
    const help = parseConfig(['--help'], {});
    for (const text of [
      '--pin-model',
      '--max-tokens',
      '--max-n',
      '--allow-upstream-overrides',
      'HOST_MAX_TOKENS',
    ])
      expect(help.kind === 'help' && help.text).toContain(text);
  });

  it('rejects bad tuning variables', () => {
    expect(error(parseConfig(base, { HOST_PING_MS: 'x' }))).toContain('HOST_PING_MS');
    expect(error(parseConfig(base, { HOST_BACKOFF_BASE_MS: '500', HOST_BACKOFF_CAP_MS: '100' }))).toContain(
      'HOST_BACKOFF_CAP_MS',
    );
  });

  it('never echoes the password in an error', () => {
    const msg = error(
      parseConfig(['--registry', 'http://user:topsecret@a', '--instance', 'i', '--password', 'p'], {}),
    );
    expect(msg).not.toContain('topsecret');
    expect(
      error(parseConfig(['--registry', '::bad?password=topsecret', '--instance', 'i'], {})),
    ).not.toContain('topsecret');
  });
});
