import { readFileSync } from 'node:fs';
import { component, parseAlloy, references, type AlloyBlock, type AlloyValue } from './alloy';
import { readYaml, repoPath } from './paths';

type Stage = Record<string, unknown>;
interface PromtailConfig {
  server: { http_listen_port: number };
  positions: { filename: string };
  clients: { url: string }[];
  scrape_configs: {
    job_name: string;
    docker_sd_configs?: { host: string; filters?: { name: string; values: string[] }[] }[];
    relabel_configs: { source_labels?: string[]; target_label?: string; regex?: string }[];
    pipeline_stages: Stage[];
  }[];
}

interface LokiConfig {
  auth_enabled: boolean;
  server: { http_listen_port: number };
  common: { path_prefix: string };
  schema_config: { configs: unknown[] };
  limits_config: { allow_structured_metadata: boolean; retention_period: string };
  compactor: { retention_enabled: boolean; delete_request_store: string };
}
interface TempoConfig {
  [key: string]: unknown;
  server: { http_listen_port: number };
  distributor: { receivers: { otlp: { protocols: unknown } } };
  storage: { trace: { backend: string } };
}
interface CollectorConfig {
  receivers: { otlp: { protocols: { http: { endpoint: string } } } };
  processors: Record<string, unknown>;
  exporters: Record<string, unknown>;
  extensions: Record<string, unknown>;
  service: {
    extensions: string[];
    pipelines: { traces: { receivers: string[]; processors: string[]; exporters: string[] } };
  };
}

const loki = readYaml<LokiConfig>(repoPath('monitoring/loki/loki.yml'));
const promtail = readYaml<PromtailConfig>(repoPath('monitoring/promtail/promtail.yml'));
const tempo = readYaml<TempoConfig>(repoPath('monitoring/tempo/tempo.yml'));
const collector = readYaml<CollectorConfig>(repoPath('monitoring/otel-collector/otel-collector.yml'));
const base = readYaml<{ name: string }>(repoPath('docker-compose.yml'));
const alloyText = readFileSync(repoPath('monitoring/alloy/config.alloy'), 'utf8');
const alloy = parseAlloy(alloyText);

/** The stages that apply to the service's own log lines: those of the match block selecting it. */
function serviceStages(): Stage[] {
  const [scrape] = promtail.scrape_configs;
  const match = scrape?.pipeline_stages
    .map((s) => s.match as { selector: string; stages: Stage[] } | undefined)
    .find((m) => m?.selector === '{compose_service="price-service"}');
  if (match === undefined) throw new Error('no match stage for {compose_service="price-service"}');
  return match.stages;
}
const stage = <T>(name: string) => serviceStages().find((s) => name in s)?.[name] as T;

describe('Loki', () => {
  it('When the Loki config is read, then it listens on 3100 with a tsdb v13 schema on the filesystem', () => {
    expect(loki.auth_enabled).toBe(false);
    expect(loki.server.http_listen_port).toBe(3100);
    expect(loki.schema_config.configs).toEqual([
      expect.objectContaining({
        store: 'tsdb',
        object_store: 'filesystem',
        schema: 'v13',
        index: { prefix: 'index_', period: '24h' },
      }),
    ]);
    expect(loki.common.path_prefix).toBe('/loki');
  });

  it('When limits are read, then structured metadata is allowed (trace_id lives there) and retention is bounded', () => {
    expect(loki.limits_config.allow_structured_metadata).toBe(true);
    expect(loki.limits_config.retention_period).toBe('168h');
    expect(loki.compactor.retention_enabled).toBe(true);
    expect(loki.compactor.delete_request_store).toBe('filesystem');
  });
});

describe('Promtail', () => {
  it('When Promtail is read, then it pushes to Loki and discovers only this compose project through Docker', () => {
    expect(promtail.clients).toEqual([{ url: 'http://loki:3100/loki/api/v1/push' }]);
    expect(promtail.scrape_configs).toHaveLength(1);
    const sd = promtail.scrape_configs[0]?.docker_sd_configs;
    expect(sd?.[0]?.host).toBe('unix:///var/run/docker.sock');
    expect(sd?.[0]?.filters).toEqual([
      { name: 'label', values: [`com.docker.compose.project=${base.name}`] },
    ]);
  });

  it('When the service parses a JSON line, then level and trace_id are extracted', () => {
    const json = stage<{ expressions: Record<string, string> }>('json');
    expect(json.expressions).toMatchObject({
      level: 'level',
      trace_id: 'trace_id',
      span_id: 'span_id',
      time: 'time',
    });
  });

  it('When labels are set, then level is a label and trace_id, span_id and worker are structured metadata', () => {
    expect(Object.keys(stage<Record<string, null>>('labels'))).toEqual(['level']);
    expect(Object.keys(stage<Record<string, null>>('structured_metadata')).sort()).toEqual([
      'span_id',
      'trace_id',
      'worker',
    ]);
  });

  it('When every label of every stream is listed, then none has unbounded values', () => {
    const fromRelabel = promtail.scrape_configs.flatMap((s) => s.relabel_configs.map((r) => r.target_label));
    const fromPipeline = JSON.stringify(promtail.scrape_configs.map((s) => s.pipeline_stages))
      .match(/"labels":\{[^}]*\}/g)
      ?.flatMap((block) => Object.keys(JSON.parse(block.slice('"labels":'.length)) as object));
    const labels = new Set([...fromRelabel, ...(fromPipeline ?? [])]);
    expect([...labels].sort()).toEqual(['compose_service', 'container', 'level', 'stream']);
    for (const forbidden of ['trace_id', 'span_id', 'worker', 'msg', 'time', 'container_id'])
      expect(labels).not.toContain(forbidden);
  });

  it('When a line carries its own time, then the timestamp stage uses it in RFC 3339', () => {
    expect(stage('timestamp')).toEqual({ source: 'time', format: 'RFC3339Nano' });
  });
});

describe('Tempo and the OpenTelemetry collector', () => {
  it('When Tempo is read, then it serves queries on 3200 and receives OTLP on 4317 and 4318', () => {
    expect(tempo.server.http_listen_port).toBe(3200);
    expect(tempo.distributor.receivers.otlp.protocols).toEqual({
      grpc: { endpoint: '0.0.0.0:4317' },
      http: { endpoint: '0.0.0.0:4318' },
    });
    expect(tempo.storage.trace.backend).toBe('local');
  });

  it('When Tempo 3 runs in monolithic mode, then the 2.x ingester and compactor blocks are gone', () => {
    for (const removed of ['ingester', 'ingester_client', 'compactor', 'metrics_generator_client'])
      expect(Object.keys(tempo)).not.toContain(removed);
  });

  it('When the collector is read, then OTLP over HTTP on 4318 flows through batching to Tempo', () => {
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    const traces = collector.service.pipelines.traces;
    expect(traces).toEqual({
      receivers: ['otlp'],
      processors: ['memory_limiter', 'batch'],
      exporters: ['otlp_grpc/tempo'],
    });
    expect(collector.exporters['otlp_grpc/tempo']).toEqual({
      endpoint: 'tempo:4317',
      tls: { insecure: true },
    });
    // `otlp` and `otlphttp` are the deprecated aliases of otlp_grpc and otlp_http.
    for (const name of Object.keys(collector.exporters))
      expect(name).toMatch(/^(otlp_grpc|otlp_http|debug)(\/|$)/);
    for (const name of traces.processors) expect(Object.keys(collector.processors)).toContain(name);
    for (const name of collector.service.extensions)
      expect(Object.keys(collector.extensions)).toContain(name);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Grafana Alloy: the default collector, the same pipeline as Promtail block for block.

const attr = <T extends AlloyValue>(b: AlloyBlock, name: string) => b.attributes[name] as T;
const keysOf = (v: AlloyValue) => Object.keys(v as Record<string, AlloyValue>).sort();
/** The stages of the loki.process match block for a selector. */
function alloyStages(selector: string): AlloyBlock[] {
  const match = component(alloy, 'loki.process').blocks.find(
    (b) => b.name === 'stage.match' && b.attributes.selector === selector,
  );
  if (match === undefined) throw new Error(`no stage.match for ${selector}`);
  return match.blocks;
}
const promtailMatches = () =>
  (promtail.scrape_configs[0]?.pipeline_stages ?? []).map(
    (s) => s.match as { selector: string; stages: Stage[] },
  );

/** What each component exports, as the references here use them. */
const EXPORTS: Record<string, string[]> = {
  'discovery.docker': ['targets'],
  'discovery.relabel': ['output', 'rules'],
  'loki.process': ['receiver'],
  'loki.write': ['receiver'],
};

describe('Grafana Alloy (monitoring/alloy/config.alloy)', () => {
  it('When the config is parsed, then it is the Docker pipeline: discovery, relabel rules, source, process, write', () => {
    expect(alloy.map((b) => `${b.name} "${b.label}"`)).toEqual([
      'discovery.docker "containers"',
      'discovery.relabel "containers"',
      'loki.source.docker "containers"',
      'loki.process "containers"',
      'loki.write "loki"',
    ]);
  });

  it('When a component refers to another, then the target exists and exports what is used', () => {
    const refs = alloy.flatMap((b) => Object.values(b.attributes).flatMap(references));
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      const parts = ref.split('.');
      const [name, label, field] = [parts.slice(0, 2).join('.'), parts[2], parts.slice(3).join('.')];
      expect({ ref, exists: alloy.some((b) => b.name === name && b.label === label) }).toEqual({
        ref,
        exists: true,
      });
      expect(EXPORTS[name]).toContain(field);
    }
  });

  it('When discovery and the write endpoint are compared with Promtail, then they are the same', () => {
    const docker = component(alloy, 'discovery.docker');
    const sd = promtail.scrape_configs[0]?.docker_sd_configs?.[0];
    expect(attr(docker, 'host')).toBe(sd?.host);
    expect(docker.blocks.map((f) => ({ name: f.attributes.name, values: f.attributes.values }))).toEqual(
      sd?.filters,
    );
    expect(attr(component(alloy, 'loki.source.docker'), 'host')).toBe(sd?.host);
    const endpoint = component(alloy, 'loki.write').blocks.find((b) => b.name === 'endpoint');
    expect([{ url: endpoint?.attributes.url }]).toEqual(promtail.clients);
  });

  it('When the relabel rules are compared with Promtail, then they build the same bounded stream labels', () => {
    const rules = component(alloy, 'discovery.relabel').blocks.map((r) => r.attributes);
    expect(rules).toEqual(promtail.scrape_configs[0]?.relabel_configs);
    expect(rules.map((r) => r.target_label).sort()).toEqual(['compose_service', 'container', 'stream']);
  });

  it('When the log pipeline is compared with Promtail, then every match block parses, labels and keeps the same fields', () => {
    const matches = promtailMatches();
    expect(
      component(alloy, 'loki.process')
        .blocks.filter((b) => b.name === 'stage.match')
        .map((b) => b.attributes.selector),
    ).toEqual(matches.map((m) => m.selector));
    for (const { selector, stages } of matches) {
      const ours = alloyStages(selector);
      const theirs = (name: string) =>
        stages.find((s) => name in s)?.[name] as Record<string, unknown> | undefined;
      const stage = (name: string) => ours.find((b) => b.name === `stage.${name}`);
      expect(stage('json')?.attributes.expressions).toEqual(theirs('json')?.expressions);
      expect(keysOf(stage('labels')?.attributes.values ?? {})).toEqual(
        Object.keys(theirs('labels') ?? {}).sort(),
      );
      expect(keysOf(stage('structured_metadata')?.attributes.values ?? {})).toEqual(
        Object.keys(theirs('structured_metadata') ?? {}).sort(),
      );
      expect(stage('timestamp')?.attributes).toEqual(theirs('timestamp'));
    }
    expect(
      keysOf(
        alloyStages('{compose_service="price-service"}').find((b) => b.name === 'stage.labels')?.attributes
          .values ?? {},
      ),
    ).toEqual(['level']);
  });

  it('When the Alloy reader is given a broken file, then it throws instead of accepting it', () => {
    expect(() => parseAlloy('loki.write "x" {\n  endpoint {\n    url = "http://loki:3100"\n  }\n')).toThrow(
      'unexpected end of file',
    );
    expect(() => parseAlloy('loki.write "x" { url = "unterminated }')).toThrow('unterminated string');
    expect(() =>
      parseAlloy(alloyText.replace('forward_to       = [', 'forward_to       = ['.replace('=', ''))),
    ).toThrow();
    const dangling = parseAlloy(
      alloyText.replace('[loki.write.loki.receiver]', '[loki.write.default.receiver]'),
    );
    const refs = dangling.flatMap((b) => Object.values(b.attributes).flatMap(references));
    expect(refs.filter((r) => !dangling.some((b) => r.startsWith(`${b.name}.${b.label}.`)))).toEqual([
      'loki.write.default.receiver',
    ]);
  });
});
