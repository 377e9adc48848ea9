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
import { basename, join } from 'node:path';
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
  SERVICE_JOB,
} from './known-metrics';
import { evaluateDashboard, type Range, type TargetVerdict } from './dead-panels';
import { loadExclusions } from './lint';
import {
  familyOf,
  parseExposition,
  startLiveService,
  startPrometheus,
  type Exposition,
  type LivePrometheus,
  type LiveService,
} from './live';
import { DASHBOARDS_DIR, filesIn, readYaml, repoPath } from './paths';
import { baseMetricName, parseValidPromQL, seriesNamesInExpr, type Matcher } from './promql';
import { allQueries, loadDashboard, loadDashboards } from './queries';
import { loadRecordingRules } from './rules';

// ---------------------------------------------------------------------------------------------------------
// Every PromQL expression of the rules, the dashboards and the datasources (queries.ts), with its origin.

const recorded = new Set(loadRecordingRules().map((r) => r.record));
const synthetic = new Set(PROMETHEUS_SYNTHETIC_METRICS);

const promqlQueries = allQueries().filter((q) => q.language === 'promql');
const ruleQueries = promqlQueries.filter((q) => q.kind === 'rule');
const panelQueries = promqlQueries.filter((q) => q.kind !== 'rule');

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

/**
 * The series names the expression selects from the service, as written (a histogram's _bucket, _sum or
 * _count series kept apart), from the syntax tree: minus recording-rule outputs and series Prometheus
 * writes itself.
 */
function serviceSeriesIn(expr: string): string[] {
  return seriesNamesInExpr(expr).filter(
    (name) => !recorded.has(baseMetricName(name)) && !synthetic.has(name),
  );
}

/** The selectors of an expression, from the syntax tree: metric name and label matchers. */
function selectorsIn(expr: string): { name: string; matchers: Matcher[] }[] {
  return parseValidPromQL(expr).selectors.flatMap((s) =>
    s.name ? [{ name: s.name, matchers: s.matchers }] : [],
  );
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
let prometheus: LivePrometheus;
let promStart = 0;
let range: Range;
let verdicts: TargetVerdict[] = [];
/** startPrometheus scrapes every second (live.ts liveConfig). */
const SCRAPE_SECONDS = 1;
const exclusions = loadExclusions(repoPath('monitoring/lint-exclusions.yml'));
const deadPanelEntries = exclusions['dead-panel']?.entries ?? [];
const excludedPanel = (v: { dashboard: string; panel: string }) =>
  deadPanelEntries.find((e) => e.dashboard === v.dashboard && e.panel === v.panel);

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
  // A real Prometheus scrapes the whole scenario, for the dead-panel check at the end.
  prometheus = await startPrometheus(`127.0.0.1:${service.metricsPort}`);
  promStart = Date.now() / 1000;
  const control = mockExchangeClient(mock.url);
  const metrics = async () => service.metricsText();

  // Traffic: ok prices, a 404 and a 405.
  for (let i = 0; i < 5; i += 1) expect((await service.request('/api/v1/prices/eth-usdt')).status).toBe(200);
  expect((await service.request('/api/v1/nope')).status).toBe(404);
  expect((await service.request('/api/v1/prices/eth-usdt', 'POST')).status).toBe(405);
  // The history routes, read by the overview's history latency panel (by their route labels).
  for (const path of [
    '/api/v1/prices/eth-usdt/candles',
    '/api/v1/prices/eth-usdt/twap?window=30s',
    '/api/v1/prices?pairs=eth-usdt',
  ]) {
    expect({ path, status: (await service.request(path)).status }).toEqual({ path, status: 200 });
  }

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

  // Two more scrapes of the final state, then every panel over the whole scenario.
  await scrapedAfter(await scrapedAfter(Date.now()));
  range = { start: Math.floor(promStart), end: Math.ceil(Date.now() / 1000), stepSeconds: 1 };
  verdicts = (
    await Promise.all(loadDashboards().map((d) => evaluateDashboard(prometheus, d, range, SCRAPE_SECONDS)))
  ).flat();
}, 240_000);

/** Waits for a scrape of the service that started after `afterMs`; returns when it started (epoch ms). */
async function scrapedAfter(afterMs: number): Promise<number> {
  type Target = { labels: Record<string, string>; lastScrape: string };
  const target = await eventually(
    async () =>
      (await prometheus.api<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets.find(
        (t) => t.labels.job === SERVICE_JOB,
      ),
    (t) => t !== undefined && Date.parse(t.lastScrape) > afterMs,
    { timeoutMs: 15_000, intervalMs: 200, what: 'a scrape of the service' },
  );
  return Date.parse((target as Target).lastScrape);
}

afterAll(async () => {
  await prometheus?.stop();
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

describe('The scrape Prometheus 3 performs', () => {
  // Prometheus 3 fails a scrape whose Content-Type is missing or unknown (2.x guessed the text format), and
  // asks for UTF-8 names with escaping=allow-utf-8. This is the Accept header Prometheus 3.x sends.
  const PROMETHEUS_3_ACCEPT =
    'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,' +
    'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';

  it.each([
    ['Prometheus 3', PROMETHEUS_3_ACCEPT],
    ['no preference', '*/*'],
  ])(
    'When %s asks for /metrics, then the answer has a Content-Type Prometheus 3 accepts',
    async (_who, accept) => {
      const response = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`, {
        headers: { accept },
      });
      expect(response.status).toBe(200);
      const type = response.headers.get('content-type') ?? '';
      expect(type).toMatch(
        /^(application\/openmetrics-text; ?version=(1\.0\.0|0\.0\.1)|text\/plain; ?version=0\.0\.4)/,
      );
      const body = await response.text();
      expect(body).toContain('# TYPE http_request_duration_seconds histogram');
      if (type.startsWith('application/openmetrics-text'))
        expect(body.trimEnd().endsWith('# EOF')).toBe(true);
    },
  );
});

describe('Every metric a Prometheus rule reads is in the live scrape', () => {
  it('When the rules are listed, then there are alerts and recording rules to check', () => {
    expect(ruleQueries.filter((q) => q.where.includes('› alert ')).length).toBeGreaterThan(10);
    expect(ruleQueries.filter((q) => q.where.includes('› record ')).length).toBeGreaterThan(10);
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

describe('No dead panels: every panel query returns series on the real Prometheus after the scenario', () => {
  it('When every dashboard is evaluated, then every Prometheus target of every panel was run', () => {
    const panels = loadDashboards().flatMap((d) =>
      d.json.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row'),
    );
    expect(verdicts.length).toBe(panels.flatMap((p) => p.targets ?? []).length);
    expect(verdicts.filter((v) => v.verdict === 'live').length).toBeGreaterThan(60);
  });

  it('When a panel target returns no series, then it is dead unless lint-exclusions.yml gives the reason', () => {
    if (process.env.DEBUG_DEAD_PANELS)
      process.stdout.write(
        verdicts.map((v) => `${v.verdict} ${v.series} ${v.dashboard} › ${v.panel} [${v.refId}]`).join('\n'),
      );
    const dead = verdicts
      .filter((v) => v.verdict !== 'live' && excludedPanel(v) === undefined)
      .map((v) => `${v.dashboard} › ${v.panel} [${v.refId}] ${v.verdict}: ${v.query}`);
    expect(dead).toEqual([]);
  });

  it('When a panel is excluded as dead, then it really returns nothing here (no stale exclusion)', () => {
    const stale = deadPanelEntries.filter((e) => {
      const targets = verdicts.filter((v) => v.dashboard === e.dashboard && v.panel === e.panel);
      return targets.length === 0 || targets.every((v) => v.verdict === 'live');
    });
    expect(stale).toEqual([]);
  });

  it('When a fixture dashboard has a misspelt metric and a label value never exported, then both panels are dead', async () => {
    const fixture = loadDashboard(join(__dirname, 'fixtures', 'dead-panel', 'dashboard.json'));
    const result = await evaluateDashboard(prometheus, fixture, range, SCRAPE_SECONDS);
    expect(result.map((v) => [v.panel, v.verdict])).toEqual([
      ['Live: price responses by pair', 'live'],
      ['Dead: misspelt metric', 'dead'],
      ['Dead: a status the service never exports', 'dead'],
      ['Dead: a variable whose value the service never exports', 'dead'],
      ['Not evaluable: a Loki query', 'not-evaluable'],
    ]);
  });
});
