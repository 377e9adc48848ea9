/**
 * The metrics that rules and dashboards read, checked against a live scrape of the real clustered service
 * (two workers, Redis, the mock exchange) after driving it through the situations that create its
 * labelled series: 404 and 405, one failing source (retries, http_error), every source failing (stale
 * and 503 answers, no_quorum rounds) and a Redis outage (redis_errors_total, redis_connection_up 0).
 *
 * A name or label the service does not export would leave a panel empty or an alert silent forever, which
 * no static test can see. This file also keeps the hard-coded KNOWN_METRICS, used by the static tests,
 * honest: it must list exactly the families the live scrape declares.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
} from '../../mock-exchange/src/mock-exchange';
import { eventually, sample } from '../../service/test/helpers/metrics';
import { startRedis, type TestRedis } from '../../service/test/helpers/redis';
import {
  HTTP_DURATION_BUCKETS,
  KNOWN_METRICS,
  PRICE_ROUTE,
  PROMETHEUS_SYNTHETIC_METRICS,
} from './known-metrics';
import { familyOf, parseExposition, startLiveService, type Exposition, type LiveService } from './live';
import { DASHBOARDS_DIR, DATASOURCES_DIR, filesIn, readYaml, repoPath } from './paths';
import { metricNamesInExpr } from './promql';
import { loadAlertRules, loadRecordingRules } from './rules';

// ---------------------------------------------------------------------------------------------------------
// Every PromQL expression of the rules and the dashboards, with where it comes from.

interface Query {
  where: string;
  expr: string;
}

const recorded = new Set(loadRecordingRules().map((r) => r.record));
const synthetic = new Set(PROMETHEUS_SYNTHETIC_METRICS);

const ruleQueries: Query[] = [
  ...loadAlertRules().map((a) => ({ where: `alert ${a.alert} (${a.labels.severity})`, expr: a.expr })),
  ...loadRecordingRules().map((r) => ({
    where: `record ${r.record}${r.labels?.slo ? ` (${r.labels.slo})` : ''}`,
    expr: r.expr,
  })),
];

interface Panel {
  title: string;
  datasource?: { uid: string };
  targets?: { refId: string; datasource?: { uid: string }; expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: { query: string } | string }[] };
  annotations: { list: { name: string; datasource?: { uid: string }; expr?: string }[] };
}

function dashboardQueries(): Query[] {
  const queries: Query[] = [];
  for (const file of filesIn(DASHBOARDS_DIR, /\.json$/)) {
    const name = basename(file, '.json');
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if ((target.datasource ?? panel.datasource)?.uid !== 'prometheus' || !target.expr) continue;
        queries.push({ where: `${name} › ${panel.title} [${target.refId}]`, expr: target.expr });
      }
    }
    for (const a of dashboard.annotations.list) {
      if (a.datasource?.uid === 'prometheus' && a.expr)
        queries.push({ where: `${name} › annotation ${a.name}`, expr: a.expr });
    }
    for (const v of dashboard.templating.list.filter((t) => t.type === 'query')) {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      // label_values(selector, label) reads the selector; label_values(label) reads no metric.
      const selector = /^\s*label_values\s*\(\s*(.*)\s*,\s*\w+\s*\)\s*$/s.exec(query)?.[1] ?? query;
      if (!/^\s*label_values\s*\(\s*\w+\s*\)\s*$/.test(query))
        queries.push({ where: `${name} › variable $${v.name}`, expr: selector });
    }
  }
  // Tempo's "traces to metrics" links run these against Prometheus too.
  for (const file of filesIn(DATASOURCES_DIR, /\.ya?ml$/)) {
    const { datasources } = readYaml<{
      datasources: { name: string; jsonData?: { tracesToMetrics?: { queries: Query[] } } }[];
    }>(file);
    for (const ds of datasources) {
      for (const q of ds.jsonData?.tracesToMetrics?.queries ?? []) {
        const { name, query } = q as unknown as { name: string; query: string };
        queries.push({ where: `datasource ${ds.name} › tracesToMetrics ${name}`, expr: query });
      }
    }
  }
  return queries;
}
const panelQueries = dashboardQueries();

// ---------------------------------------------------------------------------------------------------------
// The check: what an expression reads, against what the service exports.

/** Labels Prometheus attaches to every scraped series: the target's, not the service's. */
const TARGET_LABELS = new Set([
  'job',
  'instance',
  ...readYaml<{
    scrape_configs: { job_name: string; relabel_configs?: { target_label?: string }[] }[];
  }>(repoPath('monitoring/prometheus/prometheus.yml'))
    .scrape_configs.filter((j) => j.job_name === 'price-service')
    .flatMap((j) => (j.relabel_configs ?? []).flatMap((r) => (r.target_label ? [r.target_label] : []))),
]);

const STRINGS = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The series names the expression selects from the service, as written (a histogram's _bucket, _sum or
 * _count series kept apart): metricNamesInExpr finds the metrics, minus recording-rule outputs and series
 * Prometheus writes itself; each is then looked up as it is spelled in the expression.
 */
function serviceSeriesIn(expr: string): string[] {
  const text = expr.replace(/#[^\n]*/g, ' ').replace(STRINGS, '""');
  const names = new Set<string>();
  for (const base of metricNamesInExpr(expr)) {
    if (recorded.has(base) || synthetic.has(base)) continue;
    const spelled = new RegExp(`(?<![\\w:])${escapeRegExp(base)}(?:_bucket|_sum|_count)?(?![\\w:])`, 'g');
    for (const m of text.matchAll(spelled)) names.add(m[0]);
  }
  return [...names];
}

interface Matcher {
  label: string;
  op: string;
  value: string;
}

/** `name{label op "value", ...}` selectors of an expression, Grafana variables made inert. */
function selectorsIn(expr: string): { name: string; matchers: Matcher[] }[] {
  const text = expr.replace(/#[^\n]*/g, ' ').replace(/\$\{[^}]*\}/g, '$var');
  return [...text.matchAll(/(?<![\w:])([A-Za-z_:][\w:]*)\s*\{([^}]*)\}/g)].map((m) => ({
    name: m[1] as string,
    matchers: [...(m[2] as string).matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map((x) => ({
      label: x[1] as string,
      op: x[2] as string,
      value: x[3] as string,
    })),
  }));
}

/**
 * Why the expression would read nothing from the live service: each series name it selects must belong to
 * a family the scrape declares in a `# TYPE` line (a `_bucket` only to a histogram) and have samples; each
 * label it matches on must exist on that series, with a value matching an `=` or a literal `=~` matcher.
 */
function problemsOf(expr: string, live: Exposition): string[] {
  const problems: string[] = [];
  const present = new Set<string>();
  for (const name of serviceSeriesIn(expr)) {
    const family = familyOf(live, name);
    if (family === undefined) problems.push(`${name}: not exported (no # TYPE line declares it)`);
    else if (!live.series.some((s) => s.name === name))
      problems.push(`${name}: declared (${live.types.get(family)} ${family}) but no sample in the scrape`);
    else present.add(name);
  }
  for (const { name, matchers } of selectorsIn(expr)) {
    if (!present.has(name)) continue;
    const series = live.series.filter((s) => s.name === name);
    for (const { label, op, value } of matchers) {
      if (TARGET_LABELS.has(label)) continue;
      if (!series.some((s) => label in s.labels)) {
        problems.push(`${name}: no series has the label ${label}`);
        continue;
      }
      const literalRegex = op === '=~' && !value.includes('$');
      if (op !== '=' && !literalRegex) continue;
      const matches = (v: string | undefined) =>
        v !== undefined && (op === '=' ? v === value : new RegExp(`^(?:${value})$`).test(v));
      if (!series.some((s) => matches(s.labels[label])))
        problems.push(`${name}: no series with ${label}${op}"${value}"`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// The live service, driven through its failure modes, then scraped once.

let mock: MockExchange;
let redis: TestRedis;
let service: LiveService;
let live: Exposition;
let scrape = '';

async function priceStatus(): Promise<string> {
  const { status, body } = await service.request('/api/v1/prices/eth-usdt');
  if (status !== 200) return String(status);
  return (JSON.parse(body) as { status: string }).status;
}

beforeAll(async () => {
  [mock, redis] = await Promise.all([startMockExchange(), startRedis()]);
  service = await startLiveService({
    MOCK_EXCHANGE_URL: mock.url,
    REDIS_URL: redis.url,
    REFRESH_INTERVAL_MS: '250',
    CACHE_TTL: '1',
    MAX_STALENESS: '3',
  });
  const control = mockExchangeClient(mock.url);
  const metrics = async () => service.metricsText();

  // Traffic: ok prices, a 404 and a 405.
  for (let i = 0; i < 5; i += 1) expect((await service.request('/api/v1/prices/eth-usdt')).status).toBe(200);
  expect((await service.request('/api/v1/nope')).status).toBe(404);
  expect((await service.request('/api/v1/prices/eth-usdt', 'POST')).status).toBe(405);

  // One source fails: http_error fetches and retries exist for it.
  await control.setFault('binance', { type: 'status', status: 500 });
  await eventually(
    metrics,
    (t) =>
      (sample(t, 'upstream_retries_total', { source: 'binance' }) ?? 0) > 0 &&
      (sample(t, 'upstream_requests_total', { source: 'binance', outcome: 'http_error' }) ?? 0) > 0,
    { timeoutMs: 10_000, intervalMs: 200, what: 'binance failures counted' },
  );
  await control.clearFault('binance');

  // Every source fails: the quorum is lost, the price is served stale, then refused with 503.
  await control.setFault('*', { type: 'status', status: 500 });
  const seen = new Set<string>();
  await eventually(
    async () => seen.add(await priceStatus()),
    (s) => s.has('stale') && s.has('503'),
    { timeoutMs: 10_000, intervalMs: 100, what: 'stale then 503 answers' },
  );
  await control.clearFault('*');
  await eventually(priceStatus, (s) => s === 'ok', { timeoutMs: 15_000, intervalMs: 200, what: 'recovery' });

  // Redis goes away and comes back: connection gauge at 0, errors counted, then reconnected.
  await redis.kill();
  await eventually(
    metrics,
    (t) => sample(t, 'redis_connection_up') === 0 && (sample(t, 'redis_errors_total') ?? 0) > 0,
    { timeoutMs: 10_000, intervalMs: 200, what: 'redis outage seen' },
  );
  await redis.restart();
  await eventually(metrics, (t) => sample(t, 'redis_connection_up') === 1, {
    timeoutMs: 15_000,
    intervalMs: 200,
    what: 'redis reconnected',
  });
  expect((await service.request('/api/v1/prices/eth-usdt')).status).toBe(200);

  scrape = await service.metricsText();
  live = parseExposition(scrape);
}, 90_000);

afterAll(async () => {
  await service?.stop();
  await Promise.all([mock?.close(), redis?.stop()]);
});

describe('The live scrape of the clustered service', () => {
  it('When its # TYPE lines are compared with KNOWN_METRICS, then both list exactly the same families', () => {
    const declared = [...live.types.keys()];
    expect({
      exportedButNotInKnownMetrics: declared.filter((n) => !KNOWN_METRICS.includes(n)).sort(),
      inKnownMetricsButNotExported: KNOWN_METRICS.filter((n) => !live.types.has(n)).sort(),
    }).toEqual({ exportedButNotInKnownMetrics: [], inKnownMetricsButNotExported: [] });
  });

  it('When a sample line is read, then its series belongs to a family declared by a # TYPE line', () => {
    const orphans = [...new Set(live.series.map((s) => s.name))].filter(
      (n) => familyOf(live, n) === undefined,
    );
    expect(orphans).toEqual([]);
  });

  it(`When the price route latency histogram is read, then it has the SLO buckets le="0.1" and le="0.25"`, () => {
    const buckets = live.series.filter(
      (s) =>
        s.name === 'http_request_duration_seconds_bucket' &&
        s.labels.route === PRICE_ROUTE &&
        s.labels.status_code === '200',
    );
    const les = [...new Set(buckets.map((s) => s.labels.le))];
    expect(les).toEqual(expect.arrayContaining(['0.1', '0.25']));
    expect(les).toEqual([...HTTP_DURATION_BUCKETS.map(String), '+Inf']);
    expect(live.types.get('http_request_duration_seconds')).toBe('histogram');
  });

  it('When the 404 and the 405 were sent, then each has its series, under its route template', () => {
    const count = (labels: Record<string, string>) =>
      sample(scrape, 'http_request_duration_seconds_count', labels);
    expect(count({ status_code: '404', method: 'GET' })).toBeGreaterThanOrEqual(1);
    expect(count({ route: PRICE_ROUTE, status_code: '405', method: 'POST' })).toBe(1);
    expect(count({ route: PRICE_ROUTE, status_code: '503' })).toBeGreaterThanOrEqual(1);
    expect(sample(scrape, 'price_responses_total', { status: 'stale' })).toBeGreaterThanOrEqual(1);
  });

  it('When an expression reads a name or label the service does not export, then the check reports it', () => {
    expect(problemsOf('rate(price_responses_totl[5m])', live)).toEqual([
      'price_responses_totl: not exported (no # TYPE line declares it)',
    ]);
    expect(problemsOf('app_info_bucket', live)).toEqual([
      'app_info_bucket: not exported (no # TYPE line declares it)',
    ]);
    expect(problemsOf('sum(price_responses_total{state="ok"})', live)).toEqual([
      'price_responses_total: no series has the label state',
    ]);
    expect(problemsOf('http_request_duration_seconds_bucket{le="0.15"}', live)).toEqual([
      'http_request_duration_seconds_bucket: no series with le="0.15"',
    ]);
    expect(
      problemsOf(
        'sum(rate(http_request_duration_seconds_count{job="x",route="/api/v1/prices/:pair"}[5m]))',
        live,
      ),
    ).toEqual([]);
    expect(problemsOf('job:slo_error:ratio_rate5m > 0 and up == 1', live)).toEqual([]);
  });
});

describe('Every metric a Prometheus rule reads is in the live scrape', () => {
  it('When the rules are listed, then there are alerts and recording rules to check', () => {
    expect(ruleQueries.filter((q) => q.where.startsWith('alert')).length).toBeGreaterThan(10);
    expect(ruleQueries.filter((q) => q.where.startsWith('record')).length).toBeGreaterThan(10);
  });

  it.each(ruleQueries.map((q) => [q.where, q.expr] as const))(
    'When the expression of %s is checked, then every series and label it reads is exported live',
    (_where, expr) => {
      expect(problemsOf(expr, live)).toEqual([]);
    },
  );
});

describe('Every metric a Grafana dashboard reads is in the live scrape', () => {
  it('When the dashboards are listed, then every one of them has Prometheus queries to check', () => {
    const perDashboard = new Set(panelQueries.map((q) => q.where.split(' › ')[0]));
    for (const file of filesIn(DASHBOARDS_DIR, /\.json$/))
      expect(perDashboard).toContain(basename(file, '.json'));
  });

  it.each(panelQueries.map((q) => [q.where, q.expr] as const))(
    'When the query of %s is checked, then every series and label it reads is exported live',
    (_where, expr) => {
      expect(problemsOf(expr, live)).toEqual([]);
    },
  );
});
