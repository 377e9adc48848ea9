import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { KNOWN_METRICS, PROMETHEUS_SYNTHETIC_METRICS } from './known-metrics';
import { DASHBOARDS_DIR, DATASOURCES_DIR, filesIn, readYaml, repoPath } from './paths';
import { metricNamesInExpr, metricNamesInTemplateQuery } from './promql';
import { loadRecordingRules } from './rules';

interface Datasource {
  name: string;
  type: string;
  uid: string;
  url: string;
  jsonData?: Record<string, unknown>;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: {
    refId: string;
    datasource?: { type: string; uid: string };
    expr?: string;
    exemplar?: boolean;
  }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  description?: string;
  panels: Panel[];
  templating: {
    list: {
      name: string;
      type: string;
      datasource?: { type: string; uid: string };
      query?: { query: string } | string;
    }[];
  };
  annotations: { list: { datasource?: { type: string; uid: string }; expr?: string; name: string }[] };
}

const datasources = filesIn(DATASOURCES_DIR, /\.ya?ml$/).flatMap(
  (file) => readYaml<{ apiVersion: number; datasources: Datasource[] }>(file).datasources,
);
const byUid = (uid: string) => datasources.find((d) => d.uid === uid);

const dashboardFiles = filesIn(DASHBOARDS_DIR, /\.json$/);
const dashboards = dashboardFiles.map((file) => ({
  file: basename(file),
  json: JSON.parse(readFileSync(file, 'utf8')) as Dashboard,
}));
const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
/** Panels that show no numbers, so a unit means nothing for them. */
const NO_UNIT = new Set(['row', 'text', 'logs', 'news', 'dashlist', 'alertlist']);

const recorded = new Set(loadRecordingRules().map((r) => r.record));
const known = new Set([...KNOWN_METRICS, ...PROMETHEUS_SYNTHETIC_METRICS]);

describe('Grafana datasource provisioning', () => {
  it('When the datasources are provisioned, then Prometheus, Loki and Tempo have their fixed uids', () => {
    expect(datasources.map((d) => [d.uid, d.type, d.url])).toEqual([
      ['prometheus', 'prometheus', 'http://prometheus:9090'],
      ['loki', 'loki', 'http://loki:3100'],
      ['tempo', 'tempo', 'http://tempo:3200'],
      ['alertmanager', 'alertmanager', 'http://alertmanager:9093'],
    ]);
    expect(datasources.filter((d) => (d as { isDefault?: boolean }).isDefault).map((d) => d.uid)).toEqual([
      'prometheus',
    ]);
  });

  it('When Prometheus is read, then its interval is the scrape interval and exemplars link to Tempo', () => {
    const prometheusYml = readYaml<{ global: { scrape_interval: string } }>(
      repoPath('monitoring/prometheus/prometheus.yml'),
    );
    expect(byUid('prometheus')?.jsonData?.timeInterval).toBe(prometheusYml.global.scrape_interval);
    expect(byUid('prometheus')?.jsonData?.exemplarTraceIdDestinations).toEqual([
      { name: 'trace_id', datasourceUid: 'tempo' },
    ]);
  });

  it('When Loki is read, then a derived field turns the trace_id of a JSON log line into a Tempo link', () => {
    const fields = byUid('loki')?.jsonData?.derivedFields as {
      matcherRegex: string;
      datasourceUid: string;
      url: string;
    }[];
    expect(fields).toHaveLength(1);
    const field = fields[0] as { matcherRegex: string; datasourceUid: string; url: string };
    expect(field.datasourceUid).toBe('tempo');
    // Grafana expands $VAR in provisioning files: the literal ${__value.raw} must be written $${__value.raw}.
    expect(field.url).toBe('$${__value.raw}');
    const line = JSON.stringify({
      time: '2026-11-28T03:00:00.000Z',
      level: 'info',
      msg: 'price served',
      service: 'eth-usdt-price-service',
      worker: 'worker-1',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
    });
    expect(new RegExp(field.matcherRegex).exec(line)?.[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(new RegExp(field.matcherRegex).exec(JSON.stringify({ level: 'info', msg: 'no span' }))).toBeNull();
  });

  it('When Tempo is read, then traces link back to their log lines in Loki by trace id', () => {
    const toLogs = byUid('tempo')?.jsonData?.tracesToLogsV2 as {
      datasourceUid: string;
      customQuery: boolean;
      query: string;
    };
    expect(toLogs.datasourceUid).toBe('loki');
    expect(toLogs.customQuery).toBe(true);
    expect(toLogs.query).toBe('{compose_service="price-service"} | trace_id="$${__trace.traceId}"');
    const toMetrics = byUid('tempo')?.jsonData?.tracesToMetrics as {
      datasourceUid: string;
      queries: { query: string }[];
    };
    expect(toMetrics.datasourceUid).toBe('prometheus');
    for (const { query } of toMetrics.queries) {
      expect(metricNamesInExpr(query).filter((n) => !known.has(n))).toEqual([]);
    }
  });

  it('When the dashboard provider is read, then it loads the dashboards folder mounted by compose', () => {
    const provider = readYaml<{
      providers: { type: string; folder: string; options: { path: string }; allowUiUpdates: boolean }[];
    }>(repoPath('monitoring/grafana/provisioning/dashboards/dashboards.yaml')).providers;
    expect(provider).toHaveLength(1);
    expect(provider[0]).toMatchObject({
      type: 'file',
      folder: 'Price service',
      options: { path: '/etc/grafana/dashboards' },
      allowUiUpdates: false,
    });
  });
});

describe('Grafana dashboards', () => {
  it('When the dashboards folder is listed, then it holds the five dashboards with unique uids', () => {
    expect(readdirSync(DASHBOARDS_DIR).sort()).toEqual([
      'price-service-cache.json',
      'price-service-overview.json',
      'price-service-runtime.json',
      'price-service-slo.json',
      'price-service-sources.json',
    ]);
    const uids = dashboards.map((d) => d.json.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const { file, json } of dashboards) expect(`${json.uid}.json`).toBe(file);
  });

  describe.each(dashboards.map((d) => [d.file, d.json] as const))('%s', (_file, dashboard) => {
    const panels = allPanels(dashboard);

    it('When its panels are read, then ids are unique and every panel has a title and a grid position', () => {
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of panels) {
        expect(p.title.length).toBeGreaterThan(0);
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      }
      expect(dashboard.description?.length).toBeGreaterThan(20);
    });

    it('When a panel shows numbers, then it has a unit; every panel but rows has a description', () => {
      const missing = panels
        .filter((p) => p.type !== 'row')
        .flatMap((p) => [
          ...(p.description && p.description.length > 15 ? [] : [`${p.title}: no description`]),
          ...(NO_UNIT.has(p.type) || p.fieldConfig?.defaults?.unit ? [] : [`${p.title}: no unit`]),
        ]);
      expect(missing).toEqual([]);
    });

    it('When a datasource is referenced, then it is the dashboard variable of that type, never a uid', () => {
      // Imported anywhere, the variable picks the instance's datasource (dashboard-import.test.ts); here,
      // where the provisioned datasources exist, each variable's type has one with its fixed uid.
      const variables = new Map(
        dashboard.templating.list
          .filter((v) => v.type === 'datasource')
          .map((v) => [`\${${v.name}}`, v.query]),
      );
      const refs = [
        ...panels.flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]),
        ...dashboard.templating.list.map((v) => v.datasource),
        ...dashboard.annotations.list.map((a) => a.datasource),
      ].filter((ds): ds is { type: string; uid: string } => ds !== undefined && ds.type !== 'grafana');
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(variables.get(ref.uid)).toBe(ref.type);
        expect(datasources.filter((d) => d.type === ref.type).map((d) => d.uid)).toEqual([ref.type]);
      }
    });

    it('When its PromQL is scanned, then every metric is exported by the service or recorded by a rule', () => {
      const exprs = [
        ...panels.flatMap((p) =>
          (p.targets ?? [])
            .filter((t) => (t.datasource ?? p.datasource)?.type === 'prometheus')
            .map((t) => t.expr ?? ''),
        ),
        ...dashboard.annotations.list
          .filter((a) => a.datasource?.type === 'prometheus')
          .map((a) => a.expr ?? ''),
      ];
      const templateQueries = dashboard.templating.list
        .filter((v) => v.type === 'query')
        .map((v) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? '')));
      const names = [
        ...exprs.flatMap(metricNamesInExpr),
        ...templateQueries.flatMap(metricNamesInTemplateQuery),
      ];
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => !known.has(n) && !recorded.has(n))).toEqual([]);
    });
  });

  it('When the overview is read, then it shows RED per route, p50/p90/p99 with exemplars, status codes and logs', () => {
    const overview = dashboards.find((d) => d.json.uid === 'price-service-overview')?.json as Dashboard;
    const titles = allPanels(overview).map((p) => p.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Request rate by route',
        '5xx rate by route',
        'Price route latency p50 / p90 / p99',
        'Responses by status code',
        'Errors and warnings',
      ]),
    );
    const latency = allPanels(overview).find(
      (p) => p.title === 'Price route latency p50 / p90 / p99',
    ) as Panel;
    expect(latency.targets?.map((t) => /histogram_quantile\((0\.\d+),/.exec(t.expr ?? '')?.[1])).toEqual([
      '0.5',
      '0.9',
      '0.99',
    ]);
    expect(latency.targets?.some((t) => t.exemplar === true)).toBe(true);
    expect(latency.fieldConfig?.defaults?.unit).toBe('s');
  });

  it('When the SLO dashboard is read, then it shows SLI, budget remaining and burn rates for both SLOs', () => {
    const slo = dashboards.find((d) => d.json.uid === 'price-service-slo')?.json as Dashboard;
    const exprs = allPanels(slo).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    for (const name of ['availability', 'latency']) {
      expect(exprs).toContain(`1 - job:slo_error:ratio_rate30d{job="price-service",slo="${name}"}`);
      expect(exprs).toContain(`job:slo_error_budget_remaining:ratio30d{job="price-service",slo="${name}"}`);
      expect(
        exprs.filter(
          (e) =>
            e.startsWith(`job:slo_error:ratio_rate`) &&
            e.includes(`/ on (job, slo) (1 - job:slo_objective:ratio{job="price-service",slo="${name}"})`),
        ).length,
      ).toBeGreaterThanOrEqual(7);
    }
  });

  it('When the sources, cache and runtime dashboards are read, then they cover what the issue asks', () => {
    const metricsOf = (uid: string) =>
      new Set(
        allPanels(dashboards.find((d) => d.json.uid === uid)?.json as Dashboard).flatMap((p) =>
          (p.targets ?? []).flatMap((t) => metricNamesInExpr(t.expr ?? '')),
        ),
      );
    expect([...metricsOf('price-service-sources')]).toEqual(
      expect.arrayContaining([
        'upstream_request_duration_seconds',
        'upstream_requests_total',
        'upstream_circuit_state',
        'price_source_deviation_ratio',
        'price_quorum_sources',
        'price_quorum_min_sources',
      ]),
    );
    expect([...metricsOf('price-service-cache')]).toEqual(
      expect.arrayContaining([
        'price_cache_lookups_total',
        'redis_connection_up',
        'redis_errors_total',
        'price_age_seconds',
      ]),
    );
    expect([...metricsOf('price-service-runtime')]).toEqual(
      expect.arrayContaining([
        'cluster_workers_alive',
        'cluster_worker_restarts_total',
        'nodejs_eventloop_lag_p99_seconds',
        'nodejs_heap_size_used_bytes',
        'nodejs_gc_duration_seconds',
      ]),
    );
  });

  it('When the dashboards are mounted, then the compose file mounts this folder where the provider looks', () => {
    const compose = readFileSync(repoPath('docker-compose.monitoring.yml'), 'utf8');
    expect(compose).toContain(`./${join('monitoring', 'grafana', 'dashboards')}:/etc/grafana/dashboards:ro`);
  });
});
