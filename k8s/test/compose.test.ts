import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { startMockExchange } from '../../mock-exchange/src/mock-exchange';
import {
  checkComposeService,
  checkHealthcheckCommand,
  composeSchemaErrors,
  healthcheckUrl,
  mergeFiles,
  readCompose,
  resolvedEnv,
  SERVICE_IMAGE_BINARIES,
  type Compose,
  type ComposeService,
} from './lib/compose';
import { FIXTURES, repoPath } from './lib/paths';
import { serviceContract } from './lib/service-contract';

// The compose deployment: hardening of docker-compose.yml, the dev file with hot reload and the mock
// exchange, the tuning overlay, the host script, the images; every price-service definition cross-checked
// against what the service reads (service/src/config/ (the settings table)) and serves; broken fixtures rejected.

const contract = serviceContract();
const base = readCompose('docker-compose.yml');
const dev = readCompose('docker-compose.dev.yml');
const tuning = readCompose('docker-compose.tuning.yml');
const tuned = mergeFiles('docker-compose.yml', 'docker-compose.tuning.yml');
const monitored = mergeFiles('docker-compose.yml', 'docker-compose.monitoring.yml');
const svc = (c: Compose, name = 'price-service') =>
  c.services[name] as NonNullable<Compose['services'][string]>;

describe('docker-compose.yml', () => {
  it.each(['price-service', 'redis'])('When %s is read, then it is hardened', (name) => {
    const s = svc(base, name);
    expect(s.read_only).toBe(true);
    expect(s.cap_drop).toEqual(['ALL']);
    expect(s.security_opt).toContain('no-new-privileges:true');
    expect(s.mem_limit).toMatch(/^\d+[mg]$/);
    expect(s.healthcheck?.test).toBeDefined();
    expect(s.volumes ?? []).toEqual([]);
  });

  it('When the service is read, then only /tmp is writable and it stops with SIGTERM', () => {
    expect(svc(base).tmpfs).toEqual([expect.stringMatching(/^\/tmp:/)]);
    expect((svc(base) as { stop_signal?: string }).stop_signal).toBe('SIGTERM');
  });

  it('When Redis is read, then it is a bounded cache with nothing persisted, as an unprivileged user', () => {
    const redis = svc(base, 'redis');
    expect(redis.command?.join(' ')).toBe(
      'redis-server --save  --appendonly no --maxmemory 64mb --maxmemory-policy allkeys-lru',
    );
    expect(redis.user).toBe('redis');
    expect(redis.tmpfs).toEqual([expect.stringMatching(/^\/data:/)]);
    expect(base.volumes).toBeUndefined();
  });

  it.each([
    ['docker-compose.yml', base],
    ['docker-compose.yml + monitoring', monitored],
    ['docker-compose.yml + tuning', tuned],
    ['docker-compose.dev.yml', dev],
  ] as const)(
    'When %s is cross-checked with the service, then its settings, ports, healthcheck and grace period agree',
    (where, compose) => {
      expect(checkComposeService(svc(compose), contract, where)).toEqual([]);
    },
  );

  it('When the merged files are validated, then each merge is still a valid compose file', () => {
    expect(composeSchemaErrors(tuned)).toEqual([]);
    expect(composeSchemaErrors(monitored)).toEqual([]);
  });
});

describe('docker-compose.tuning.yml', () => {
  const s = svc(tuning);

  it('When its sysctls are read, then each is one a container may set (its network namespace)', () => {
    expect(Object.keys(s.sysctls ?? {}).sort()).toEqual([
      'net.core.somaxconn',
      'net.ipv4.tcp_max_syn_backlog',
    ]);
    for (const name of Object.keys(s.sysctls ?? {})) expect(name).toMatch(/^net\./);
  });

  it('When the listen backlog is read, then it is LISTEN_BACKLOG, within somaxconn (which caps it), default 4096', () => {
    const env = resolvedEnv(s);
    expect(env.LISTEN_BACKLOG).toBe('4096');
    expect(Number(env.LISTEN_BACKLOG)).toBeLessThanOrEqual(Number(s.sysctls?.['net.core.somaxconn']));
    expect(Number(s.sysctls?.['net.ipv4.tcp_max_syn_backlog'])).toBeGreaterThanOrEqual(
      Number(env.LISTEN_BACKLOG),
    );
    // The service's own default agrees.
    expect(contract.defaults.listenBacklog).toBe(Number(env.LISTEN_BACKLOG));
  });

  it('When the open-file limit is read, then soft <= hard <= the fs.nr_open that scripts/tune-host.sh sets', () => {
    const nofile = s.ulimits?.nofile as { soft: number; hard: number };
    expect(nofile.soft).toBeLessThanOrEqual(nofile.hard);
    const script = readFileSync(repoPath('scripts', 'tune-host.sh'), 'utf8');
    const nrOpen = Number(/"fs\.nr_open\|(\d+)\|/.exec(script)?.[1]);
    expect(nofile.hard).toBeLessThanOrEqual(nrOpen);
  });
});

describe('docker-compose.dev.yml', () => {
  it('When it is read, then the service and the mock exchange run from mounted source with tsx watch', () => {
    // The service's workers load modules its primary does not: tsx watch is told to watch all of them.
    const serviceWatch = ['--include', 'service/src/**/*.ts', '--include', 'service/openapi.json'];
    for (const [name, entry, watched] of [
      ['price-service', 'service/src/main.ts', serviceWatch],
      ['mock-exchange', 'mock-exchange/src/main.ts', []],
    ] as const) {
      const s = svc(dev, name);
      expect(s.build).toEqual({ context: '.', dockerfile: 'Dockerfile.dev' });
      expect(s.command).toEqual([
        'node_modules/.bin/tsx',
        'watch',
        '--clear-screen=false',
        ...watched,
        entry,
      ]);
      expect(existsSync(repoPath(entry))).toBe(true);
      expect(s.volumes).toEqual(['.:/app', '/app/node_modules']);
    }
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    expect(pkg.devDependencies.tsx).toBeDefined();
  });

  it('When the service is read, then it prices from the mock exchange, uses Redis, logs debug, on 8000 and 8001', () => {
    const env = resolvedEnv(svc(dev));
    const mock = resolvedEnv(svc(dev, 'mock-exchange'));
    expect(env.MOCK_EXCHANGE_URL).toBe(`http://mock-exchange:${mock.MOCK_EXCHANGE_PORT}`);
    expect(mock.MOCK_EXCHANGE_HOST).toBe('0.0.0.0');
    expect(svc(dev, 'mock-exchange').ports).toEqual([`127.0.0.1:9099:${mock.MOCK_EXCHANGE_PORT}`]);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env.LOG_LEVEL).toBe('debug');
    expect(svc(dev).ports).toEqual(['127.0.0.1:8000:8000', '127.0.0.1:8001:8001']);
    expect(svc(dev).depends_on).toEqual({
      'mock-exchange': { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(svc(dev, 'redis').command?.join(' ')).toContain('--save  --appendonly no');
  });

  it('When the mock exchange is health-checked, then the real mock answers 200 on that path, on its port, with node', async () => {
    const mock = svc(dev, 'mock-exchange');
    expect(await mockHealthcheckProblems(mock, 'docker-compose.dev.yml')).toEqual([]);
  });
});

/**
 * The mock exchange's healthcheck against the mock itself: the URL's port is the one the mock listens on
 * (MOCK_EXCHANGE_PORT), the command is one the dev image has, and a real mock (started here on a free port)
 * answers the path with 200.
 */
async function mockHealthcheckProblems(service: ComposeService, where: string): Promise<string[]> {
  const test = service.healthcheck?.test;
  if (test === undefined) return [`${where}: mock-exchange has no healthcheck`];
  const problems = checkHealthcheckCommand(test, SERVICE_IMAGE_BINARIES, where);
  const url = healthcheckUrl(test);
  if (!url) return [...problems, `${where}: the mock-exchange healthcheck fetches no URL`];
  const port = resolvedEnv(service).MOCK_EXCHANGE_PORT ?? '9099';
  if (url.authority !== `127.0.0.1:${port}` && url.authority !== `localhost:${port}`)
    problems.push(`${where}: the healthcheck asks ${url.authority}, the mock listens on port ${port}`);
  const running = await startMockExchange({ tickMs: 60_000 });
  try {
    const response = await fetch(`${running.url}${url.path}`);
    if (response.status !== 200)
      problems.push(`${where}: the mock answers ${url.path} with ${response.status}, not 200`);
  } finally {
    await running.close();
  }
  return problems;
}

describe('images', () => {
  const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8');

  it('When the runtime image is read, then it carries the OCI labels, stops with SIGTERM and probes liveness', () => {
    for (const label of ['title', 'description', 'licenses', 'version', 'revision', 'created', 'base.name'])
      expect(dockerfile).toContain(`org.opencontainers.image.${label}=`);
    expect(dockerfile).toContain('STOPSIGNAL SIGTERM');
    expect(dockerfile).toContain(contract.livenessPath);
    expect(dockerfile).toContain(`EXPOSE ${contract.defaults.port} ${contract.defaults.metricsPort}`);
    const instructions = dockerfile.split('\n').filter((l) => !l.startsWith('#'));
    expect(instructions.join('\n')).not.toMatch(/--init|tini|dumb-init/);
  });

  it('When Dockerfile.dev is read, then it installs every dependency, runs as node and has no source baked in', () => {
    const dev = readFileSync(repoPath('Dockerfile.dev'), 'utf8');
    expect(dev).toContain('FROM node:24-bookworm-slim');
    expect(dev).toContain('RUN npm ci --no-audit --no-fund');
    expect(dev).toContain('USER node');
    expect(dev).not.toMatch(/^COPY \. /m);
  });

  it('When .dockerignore is read, then tools, manifests and the dev image stay out of the build context', () => {
    const ignored = readFileSync(repoPath('.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(
      expect.arrayContaining(['.tools', 'k8s', 'Dockerfile.dev', 'node_modules', '.env']),
    );
  });
});

describe('scripts/tune-host.sh', () => {
  it('When run without --apply, then it only prints what it would change and exits 0', () => {
    const result = spawnSync('bash', [repoPath('scripts', 'tune-host.sh')], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^setting\s+current\s+target\s+action/);
    expect(result.stdout).toContain('fs.file-max');
    expect(result.stdout).not.toContain('applied');
  });

  it('When --persist is given without --apply, then it refuses', () => {
    const result = spawnSync('bash', [repoPath('scripts', 'tune-host.sh'), '--persist'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
  });
});

/**
 * Each broken compose fixture and what must reject it: the Compose Specification schema (and dclint, which
 * validates against the same schema, as make test runs it on the real files), the cross-checks with the
 * service, or the mock exchange itself.
 */
const COMPOSE_FIXTURES: Record<
  string,
  { rejectedBy: 'schema' | 'cross-check' | 'mock-exchange'; error: RegExp }
> = {
  'unknown-key.yml': { rejectedBy: 'schema', error: /must NOT have additional properties \(read_onyl\)/ },
  'sysctls-ints.yml': { rejectedBy: 'schema', error: /\/services\/price-service\/sysctls/ },
  'ulimits-no-hard.yml': { rejectedBy: 'schema', error: /\/services\/price-service\/ulimits\/nofile/ },
  'dev-depends-on-condition.yml': {
    rejectedBy: 'schema',
    error:
      /\/services\/price-service\/depends_on\/mock-exchange\/condition: must be equal to one of the allowed values/,
  },
  'unknown-env.yml': { rejectedBy: 'cross-check', error: /environment REDIS_TIMEOUT_MS is not a setting/ },
  'short-grace.yml': {
    rejectedBy: 'cross-check',
    error: /stop_grace_period 5s is shorter than the 12000 ms shutdown/,
  },
  'env-shutdown-timeout.yml': {
    rejectedBy: 'cross-check',
    error:
      /environment SHUTDOWN_TIMEOUT_MS is taken from the host environment \(\$\{SHUTDOWN_TIMEOUT_MS:-10000\}\) but stop_grace_period 15s is fixed/,
  },
  'bad-healthcheck.yml': {
    rejectedBy: 'cross-check',
    error:
      /healthcheck probes \/healthz[\s\S]*METRICS_PORT 8001 is not published|METRICS_PORT 8001 is not published[\s\S]*healthcheck probes \/healthz/,
  },
  'curl-healthcheck.yml': {
    rejectedBy: 'cross-check',
    error: /healthcheck runs curl, which is not in the image \(it has node\)/,
  },
  'dev-mock-healthcheck.yml': {
    rejectedBy: 'mock-exchange',
    error: /the mock answers \/__control\/heal with 404, not 200/,
  },
};

describe('broken compose fixtures', () => {
  const dir = join(FIXTURES, 'compose');

  it('When the fixtures are listed, then each one has an expected rejection', () => {
    expect(readdirSync(dir).sort()).toEqual(Object.keys(COMPOSE_FIXTURES).sort());
  });

  it.each(Object.entries(COMPOSE_FIXTURES))(
    'When %s is validated, then the expected validator rejects it',
    async (file, expected) => {
      const doc = load(readFileSync(join(dir, file), 'utf8')) as Compose;
      const schemaErrors = composeSchemaErrors(doc);
      let found: string[];
      if (expected.rejectedBy === 'schema') {
        found = schemaErrors;
        // dclint (what make test runs on the real files) rejects it too, with its schema rule.
        const lint = spawnSync(repoPath('node_modules/.bin/dclint'), [join(dir, file)], {
          encoding: 'utf8',
          timeout: 20_000,
        });
        expect(lint.status).toBe(1);
        expect(lint.stdout).toContain('invalid-schema');
      } else {
        // Valid compose, wrong for this service: only the cross-checks see it.
        expect(schemaErrors).toEqual([]);
        found =
          expected.rejectedBy === 'cross-check'
            ? checkComposeService(svc(doc), contract, file)
            : await mockHealthcheckProblems(svc(doc, 'mock-exchange'), file);
      }
      expect(found.join('\n')).toMatch(expected.error);
      if (process.env.K8S_REPORT)
        console.log(`${file}: ${[...new Set([...schemaErrors, ...found])].join(' | ')}`);
    },
  );
});
