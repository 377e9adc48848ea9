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

  it('When the collector is read, then OTLP over HTTP on 4318 flows through batching to Tempo', () => {
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    const traces = collector.service.pipelines.traces;
    expect(traces).toEqual({
      receivers: ['otlp'],
      processors: ['memory_limiter', 'batch'],
      exporters: ['otlp/tempo'],
    });
    expect(collector.exporters['otlp/tempo']).toEqual({ endpoint: 'tempo:4317', tls: { insecure: true } });
    for (const name of traces.processors) expect(Object.keys(collector.processors)).toContain(name);
    for (const name of collector.service.extensions)
      expect(Object.keys(collector.extensions)).toContain(name);
  });
});
