import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import {
  composeSchemaErrors,
  mergeFiles,
  readCompose as read,
  type ComposeService as Service,
} from '../../k8s/test/lib/compose';
import { repoPath } from './paths';

// The schema check, the merge and the deployment cross-checks live in k8s/test/lib/compose.ts (shared with
// k8s/test/compose.test.ts, which covers the dev and tuning files); this file covers the monitoring stack.
const COMPOSE_FILES = [
  'docker-compose.yml',
  'docker-compose.monitoring.yml',
  'docker-compose.dev.yml',
  'docker-compose.tuning.yml',
];
const base = read('docker-compose.yml');
const overlay = read('docker-compose.monitoring.yml');
const merged = mergeFiles('docker-compose.yml', 'docker-compose.monitoring.yml');

function bindSources(service: Service): string[] {
  return (service.volumes ?? []).flatMap((v) => {
    if (typeof v !== 'string') return v.type === 'bind' ? [v.source] : [];
    const source = v.split(':')[0] as string;
    return source.startsWith('.') || isAbsolute(source) ? [source] : [];
  });
}

describe('Compose files', () => {
  it.each(COMPOSE_FILES)(
    'When %s is validated against the Compose Specification schema, then it is valid',
    (file) => {
      expect(composeSchemaErrors(read(file))).toEqual([]);
    },
  );

  it('When a compose file has an unknown key, then the schema check rejects it', () => {
    expect(composeSchemaErrors({ services: { web: { image: 'x', imagee: 'typo' } } })).not.toEqual([]);
    expect(composeSchemaErrors({ services: { web: { image: 'x', depends_on: 'redis' } } })).not.toEqual([]);
    expect(
      composeSchemaErrors({
        services: { web: { image: 'x', healthcheck: { test: ['CMD', 'true'], intervall: '5s' } } },
      }),
    ).not.toEqual([]);
  });

  it('When dclint lints every compose file, then it reports no problem (bound ports, no build with image, key order)', () => {
    const result = spawnSync(repoPath('node_modules/.bin/dclint'), COMPOSE_FILES, {
      cwd: repoPath(),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('When the base file is read, then it builds the service from the Dockerfile with Redis beside it', () => {
    expect(base.name).toBe('eth-usdt-price');
    expect(overlay.name).toBe(base.name);
    expect(Object.keys(base.services).sort()).toEqual(['price-service', 'redis']);
    const service = base.services['price-service'] as Service;
    expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(service.ports).toEqual(['127.0.0.1:8000:8000', '127.0.0.1:8001:8001']);
    expect(service.environment).toMatchObject({ REDIS_URL: 'redis://redis:6379', WORKERS: '${WORKERS:-2}' });
    expect(Object.keys(service.environment ?? {})).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(existsSync(repoPath('Dockerfile'))).toBe(true);
  });

  it('When the monitoring overlay is merged over the base, then the whole stack is there on its ports', () => {
    expect(Object.keys(merged.services).sort()).toEqual([
      'alert-logger',
      'alertmanager',
      'alloy',
      'grafana',
      'loki',
      'otel-collector',
      'price-service',
      'prometheus',
      'promtail',
      'redis',
      'tempo',
    ]);
    const published = Object.fromEntries(
      Object.entries(merged.services).map(([name, s]) => [name, s.ports ?? []]),
    );
    // Published on the loopback interface only: Grafana's development password never faces the network.
    expect(published).toEqual({
      'alert-logger': [],
      alertmanager: ['127.0.0.1:9093:9093'],
      alloy: [],
      grafana: ['127.0.0.1:3000:3000'],
      loki: ['127.0.0.1:3100:3100'],
      'otel-collector': ['127.0.0.1:4318:4318'],
      'price-service': ['127.0.0.1:8000:8000', '127.0.0.1:8001:8001'],
      prometheus: ['127.0.0.1:9090:9090'],
      promtail: [],
      redis: [],
      tempo: ['127.0.0.1:3200:3200'],
    });
  });

  it('When the stack is merged, then the service exports traces to the collector and keeps its Redis', () => {
    expect(merged.services['price-service']?.environment).toMatchObject({
      REDIS_URL: 'redis://redis:6379',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
    });
  });

  it('When Prometheus is started, then exemplar storage is on and retention covers the 30-day SLO period', () => {
    expect(merged.services.prometheus?.command).toEqual(
      expect.arrayContaining([
        '--config.file=/etc/prometheus/prometheus.yml',
        '--enable-feature=exemplar-storage',
        '--storage.tsdb.retention.time=30d',
      ]),
    );
  });

  it('When Prometheus 3 is started, then no flag it removed or turned into configuration is used', () => {
    const command = merged.services.prometheus?.command ?? [];
    const features = command.flatMap((c) => /^--enable-feature=(.+)$/.exec(c)?.[1]?.split(',') ?? []);
    // Removed in 3.0 (now always on or gone): the 2.x feature flags; native-histograms became the
    // scrape_native_histograms setting. exemplar-storage is still a feature flag in 3.x.
    const REMOVED = [
      'promql-at-modifier',
      'promql-negative-offset',
      'remote-write-receiver',
      'new-service-discovery-manager',
      'expand-external-labels',
      'no-default-scrape-port',
      'agent',
      'native-histograms',
      'auto-gomaxprocs',
    ];
    expect(features).toEqual(['exemplar-storage']);
    for (const f of features) expect(REMOVED).not.toContain(f);
    expect(command.some((c) => c.startsWith('--storage.tsdb.retention='))).toBe(false);
    expect(merged.services.prometheus?.image).toMatch(/^prom\/prometheus:v3\./);
  });

  it('When Grafana is started, then the admin password comes from the environment with admin only as default', () => {
    expect(merged.services.grafana?.environment).toMatchObject({
      GF_SECURITY_ADMIN_PASSWORD: '${GF_SECURITY_ADMIN_PASSWORD:-admin}',
      GF_USERS_ALLOW_SIGN_UP: 'false',
    });
  });

  it('When the log collectors are started, then each reads container logs through the Docker socket, read-only', () => {
    expect(merged.services.alloy?.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
    expect(merged.services.promtail?.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
  });

  it('When the stack starts without a profile, then Alloy collects the logs and Promtail (end of life) stays off', () => {
    const profiles = (name: string) =>
      (merged.services[name] as { profiles?: string[] } | undefined)?.profiles;
    expect(profiles('alloy')).toBeUndefined();
    expect(profiles('promtail')).toEqual(['promtail']);
    const withoutProfile = Object.keys(merged.services).filter((n) => profiles(n) === undefined);
    expect(withoutProfile).toContain('alloy');
    expect(withoutProfile).not.toContain('promtail');
    expect(merged.services.alloy?.command).toEqual(
      expect.arrayContaining(['run', '/etc/alloy/config.alloy', '--storage.path=/var/lib/alloy/data']),
    );
  });

  it('When the images are read, then every one is pinned to a version, none to latest', () => {
    const images = Object.values(merged.services).flatMap((s) => (s.image ? [s.image] : []));
    expect(images.length).toBeGreaterThan(8);
    for (const image of images) expect(image).toMatch(/^[\w./-]+:(v?\d+[\w.-]*)$/);
    expect(images).toEqual(
      expect.arrayContaining([
        'prom/prometheus:v3.15.0',
        'prom/alertmanager:v0.32.0',
        'grafana/grafana:13.2.3',
        'grafana/loki:3.7.0',
        'grafana/tempo:3.0.0',
        'grafana/alloy:v1.21.0',
        'otel/opentelemetry-collector-contrib:0.160.0',
      ]),
    );
  });

  it('When the merged stack mounts files from the repository, then every one exists with the right kind', () => {
    const mounts = Object.entries(merged.services).flatMap(([name, s]) =>
      bindSources(s).map((source) => ({ name, source })),
    );
    const fromRepo = mounts.filter((m) => m.source.startsWith('.')).map((m) => normalize(m.source));
    expect(fromRepo.sort()).toEqual(
      [
        'monitoring/alertmanager/alert-logger.ts',
        'monitoring/alloy/config.alloy',
        'monitoring/alertmanager/alertmanager.yml',
        'monitoring/grafana/dashboards',
        'monitoring/grafana/provisioning',
        'monitoring/loki/loki.yml',
        'monitoring/otel-collector/otel-collector.yml',
        'monitoring/prometheus',
        'monitoring/promtail/promtail.yml',
        'monitoring/tempo/tempo.yml',
      ].sort(),
    );
    for (const source of fromRepo) {
      expect(existsSync(repoPath(source))).toBe(true);
      expect(statSync(repoPath(source)).isDirectory()).toBe(!/\.(ya?ml|ts|alloy)$/.test(source));
    }
  });

  it('When a service depends on another or names a volume, then that service or volume is defined', () => {
    for (const service of Object.values(merged.services)) {
      const deps = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(Object.keys(merged.services)).toContain(dep);
      for (const v of service.volumes ?? []) {
        const source = typeof v === 'string' ? (v.split(':')[0] as string) : v.source;
        if (!source.startsWith('.') && !source.startsWith('/'))
          expect(Object.keys(merged.volumes ?? {})).toContain(source);
      }
    }
  });

  it('When the mounted configs are compared with the commands, then each service reads the file it mounts', () => {
    const mountTargets = (name: string) =>
      (merged.services[name]?.volumes ?? [])
        .filter((v): v is string => typeof v === 'string')
        .map((v) => v.split(':')[1]);
    expect(mountTargets('loki')).toContain('/etc/loki/loki.yml');
    expect(merged.services.loki?.command).toContain('-config.file=/etc/loki/loki.yml');
    expect(mountTargets('alloy')).toContain('/etc/alloy/config.alloy');
    expect(mountTargets('promtail')).toContain('/etc/promtail/promtail.yml');
    expect(merged.services.promtail?.command).toContain('-config.file=/etc/promtail/promtail.yml');
    expect(mountTargets('tempo')).toContain('/etc/tempo/tempo.yml');
    expect(merged.services.tempo?.command).toContain('-config.file=/etc/tempo/tempo.yml');
    expect(mountTargets('otel-collector')).toContain('/etc/otelcol/otel-collector.yml');
    expect(merged.services['otel-collector']?.command).toContain('--config=/etc/otelcol/otel-collector.yml');
    expect(mountTargets('alertmanager')).toContain('/etc/alertmanager/alertmanager.yml');
    expect(mountTargets('alert-logger')).toContain('/app/alert-logger.ts');
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));

  it('When the Dockerfile is read, then it builds in one stage and runs in a slim official node:24 stage', () => {
    expect(instructions.filter((l) => l.startsWith('FROM '))).toEqual([
      'FROM node:24-bookworm-slim AS build',
      'FROM node:24-bookworm-slim AS runtime',
    ]);
    expect(instructions).toEqual(
      expect.arrayContaining(['RUN npm ci --no-audit --no-fund', 'RUN npx tsc -p tsconfig.build.json']),
    );
    expect(instructions).toContain(
      'RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force && rm -rf /tmp/node-compile-cache /root/.npm',
    );
    expect(instructions).toContain('COPY --from=build /app/dist ./dist');
  });

  it('When the runtime stage is read, then it runs as node, exposes both ports, checks liveness and starts main.js', () => {
    const runtime = instructions.slice(instructions.indexOf('FROM node:24-bookworm-slim AS runtime'));
    expect(runtime).toContain('USER node');
    expect(runtime).toContain('EXPOSE 8000 8001');
    expect(runtime.find((l) => l.startsWith('HEALTHCHECK'))).toContain(
      'fetch(`http://127.0.0.1:${process.env.PORT || 8000}/health/liveness`)',
    );
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/service/src/main.js"]');
    expect(JSON.parse(readFileSync(repoPath('package.json'), 'utf8')).scripts.start).toBe(
      'node dist/service/src/main.js',
    );
  });

  it('When .dockerignore is read, then dependencies, build output, git and secrets stay out of the context', () => {
    const ignored = readFileSync(repoPath('.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.env', 'monitoring']));
  });
});
