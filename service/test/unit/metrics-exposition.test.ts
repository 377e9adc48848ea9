/**
 * /metrics in its two formats: the Prometheus text format, unchanged, and OpenMetrics with the latency
 * exemplars, for one process and aggregated over a cluster's processes.
 *
 * Validity is checked by Prometheus's own parsers through promtool: `promtool check metrics` for the text
 * format; for OpenMetrics (which that command cannot read: it knows neither `# EOF` nor exemplars),
 * `promtool tsdb create-blocks-from openmetrics`, which ingests the text with Prometheus's OpenMetrics parser
 * (it wants a timestamp on every sample, so the test adds one), then `promtool tsdb dump` to read back the
 * series stored. Those must be exactly the series and values of the text format. What that parser lets
 * through (a counter family named `x_total`, a sample outside its family) is checked here line by line.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AggregatorRegistry, Registry } from 'prom-client';
import {
  OPENMETRICS_CONTENT_TYPE,
  aggregateWithExemplars,
  exposeAggregated,
  exposeRegistry,
  negotiateFormat,
  renderOpenMetrics,
  startMetricsServer,
  type MetricsJson,
} from '../../src/observability/metrics-server';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';

const PRICE_ROUTE = '/api/v1/prices/:pair';
const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACE_C = 'a3ce929d0e0e47364bf92f3577b34da6';
const PROMETHEUS_2_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const PROMETHEUS_3_ACCEPT =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';
const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// ---------------------------------------------------------------------------------------------------------
// Parsing and promtool

const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;
const seriesKey = (name: string, labels: [string, string][]) =>
  `${name}{${labels
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

/** Series key → value of every sample line of the Prometheus text format. */
function textSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(LABEL)].map((m) => [m[1], m[2]] as [string, string]);
    samples.set(seriesKey(match[1] as string, labels), Number(match[3]));
  }
  return samples;
}

function run(command: string, args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', input, timeout: 20_000 });
  if (result.error)
    throw new Error(`${command} could not run (is prometheus installed?): ${result.error.message}`);
  return {
    status: result.status,
    output: `$ ${command} ${args.join(' ')}\n${result.stdout}${result.stderr}`,
  };
}

/**
 * The series Prometheus's OpenMetrics parser stores from `text`, read back from a TSDB block: series key →
 * value. Throws with promtool's words when the parser rejects the text.
 */
function ingestOpenMetrics(text: string): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'openmetrics-'));
  try {
    // The backfiller needs a timestamp on each sample: it goes after the value, before any exemplar.
    const stamped = text
      .split('\n')
      .map((line) =>
        line === '' || line.startsWith('#')
          ? line
          : line.replace(/^([^ {]+(?:\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?) (\S+)/, '$1 $2 1700000000'),
      )
      .join('\n');
    writeFileSync(join(dir, 'metrics.txt'), stamped);
    const created = run('promtool', [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      join(dir, 'metrics.txt'),
      join(dir, 'db'),
    ]);
    if (created.status !== 0)
      throw new Error(`Prometheus's OpenMetrics parser refused it:\n${created.output}`);
    mkdirSync(join(dir, 'db', 'wal'), { recursive: true });
    const dumped = spawnSync('promtool', ['tsdb', 'dump', join(dir, 'db')], { encoding: 'utf8' });
    const samples = new Map<string, number>();
    for (const line of dumped.stdout.split('\n').filter(Boolean)) {
      const match = /^\{(.*)\} (\S+) (\d+)$/.exec(line);
      if (match === null) throw new Error(`unexpected dump line: ${line}`);
      const labels = [...(match[1] as string).matchAll(LABEL)].map((m) => [m[1], m[2]] as [string, string]);
      const name = labels.find(([k]) => k === '__name__')?.[1] as string;
      samples.set(
        seriesKey(
          name,
          labels.filter(([k]) => k !== '__name__'),
        ),
        Number(match[2]),
      );
    }
    return samples;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SUFFIXES: Record<string, readonly string[]> = {
  counter: ['_total'],
  gauge: [''],
  unknown: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

interface ExemplarLine {
  sample: string;
  labels: Record<string, string>;
  traceId: string;
  value: number;
  timestamp: number;
}

/**
 * What Prometheus's parser does not enforce of OpenMetrics 1.0: `# EOF` last and no blank line; each family
 * declared once with HELP then TYPE; every sample right after its family's TYPE and named by its type
 * (a counter family `x` has samples `x_total`, so no family may be named `x_total`); exemplars only on
 * counter and `_bucket` samples, in `# {labels} value timestamp` form. Returns the exemplars found.
 */
function checkOpenMetrics(text: string): { families: Map<string, string>; exemplars: ExemplarLine[] } {
  expect(text.endsWith('\n# EOF\n')).toBe(true);
  const lines = text.slice(0, -'# EOF\n'.length).split('\n').slice(0, -1);
  const families = new Map<string, string>();
  const exemplars: ExemplarLine[] = [];
  let family: string | undefined;
  let type: string | undefined;
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${line}`;
    expect({ where, blank: line.trim() === '' }).toEqual({ where, blank: false });
    const help = /^# HELP (\S+) /.exec(line);
    if (help !== null) {
      family = help[1] as string;
      type = undefined;
      expect({ where, declaredBefore: families.has(family) }).toEqual({ where, declaredBefore: false });
      continue;
    }
    const declared = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (declared !== null) {
      expect({ where, family: declared[1] }).toEqual({ where, family });
      type = declared[2] as string;
      expect(Object.keys(SUFFIXES)).toContain(type);
      if (type === 'counter')
        expect({ where, total: family?.endsWith('_total') }).toEqual({ where, total: false });
      families.set(family as string, type);
      continue;
    }
    expect({ where, comment: line.startsWith('#') }).toEqual({ where, comment: false });
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? (\S+)(?: # (.*))?$/.exec(
      line,
    );
    expect({ where, parsed: sample !== null }).toEqual({ where, parsed: true });
    const name = sample?.[1] as string;
    const allowed = (SUFFIXES[type as string] ?? []).map((suffix) => `${family}${suffix}`);
    expect({ where, name }).toEqual({ where, name: allowed.includes(name) ? name : allowed });
    const exemplar = sample?.[4];
    if (exemplar === undefined) continue;
    expect({ where, onBucketOrCounter: name.endsWith('_bucket') || type === 'counter' }).toEqual({
      where,
      onBucketOrCounter: true,
    });
    const parts = /^\{trace_id="([0-9a-f]{32})"\} (\S+) (\d+(?:\.\d+)?)$/.exec(exemplar);
    expect({ where, exemplar: parts !== null }).toEqual({ where, exemplar: true });
    exemplars.push({
      sample: name,
      labels: Object.fromEntries([...(sample?.[2] ?? '').matchAll(LABEL)].map((m) => [m[1], m[2]])),
      traceId: parts?.[1] as string,
      value: Number(parts?.[2]),
      timestamp: Number(parts?.[3]),
    });
  }
  return { families, exemplars };
}

/** The exemplars of the price route's latency buckets: le → [trace id, value]. */
const priceExemplars = (exemplars: ExemplarLine[]) =>
  Object.fromEntries(
    exemplars
      .filter((e) => e.sample === 'http_request_duration_seconds_bucket' && e.labels.route === PRICE_ROUTE)
      .map((e) => [e.labels.le, [e.traceId, e.value]]),
  );

// ---------------------------------------------------------------------------------------------------------
// The service's metrics, driven through the situations that create their series

function serviceMetrics(defaultMetrics = false) {
  const metrics = createMetrics({ vocabulary: { pairs: ['eth-usdt'] }, defaultMetrics, redis: true });
  const price = metrics.httpObserver(PRICE_ROUTE, 'GET');
  price(200, 0.003);
  price(200, 0.02, TRACE_A);
  price(200, 3, TRACE_B);
  metrics.httpObserver('unmatched', 'GET')(404, 0.0004);
  metrics.priceServedCounter('eth-usdt')('ok');
  metrics.cacheLookup('l1', 'hit');
  metrics.redisError('get');
  metrics.redisConnection(true);
  metrics.upstreamFetch('binance', 'success', 0.02);
  metrics.aggregationRound('eth-usdt', true, 2, [
    { exchange: 'binance', state: 'used', deviationBps: '1.5' },
    { exchange: 'kraken', state: 'used', deviationBps: '-0.5' },
    { exchange: 'okx', state: 'rejected_outlier', deviationBps: '80' },
  ]);
  metrics.quorumConfig(2, 3);
  metrics.lease('binance', 'acquired');
  metrics.workersAlive(2);
  return metrics;
}

// ---------------------------------------------------------------------------------------------------------

describe('/metrics content negotiation', () => {
  it.each([
    ['Prometheus 2.x', PROMETHEUS_2_ACCEPT, 'openmetrics'],
    ['Prometheus 3.x (protobuf first, which is not served)', PROMETHEUS_3_ACCEPT, 'openmetrics'],
    ['OpenMetrics alone', 'application/openmetrics-text', 'openmetrics'],
    ['OpenMetrics 0.0.1', 'application/openmetrics-text; version=0.0.1', 'openmetrics'],
    ['no Accept header', undefined, 'prometheus'],
    ['curl and fetch', '*/*', 'prometheus'],
    ['text/plain', 'text/plain;version=0.0.4', 'prometheus'],
    ['a browser', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'prometheus'],
    ['text preferred', 'text/plain;q=1,application/openmetrics-text;q=0.5', 'prometheus'],
    ['OpenMetrics refused', 'application/openmetrics-text;q=0,*/*', 'prometheus'],
    ['an OpenMetrics version not served', 'application/openmetrics-text;version=2.0.0', 'prometheus'],
  ])('When the Accept header is from %s, then the format is the one it prefers', (_who, accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });
});

describe('one process: the Prometheus text format', () => {
  it('When the registry is exposed as Prometheus text, then it is prom-client output byte for byte, without exemplars, and promtool accepts it', async () => {
    const metrics = serviceMetrics();
    const exposed = await exposeRegistry(metrics.registry, 'prometheus');
    expect(exposed.contentType).toBe(TEXT_CONTENT_TYPE);
    expect(exposed.body).toBe(await metrics.registry.metrics());
    expect(exposed.body).not.toContain('trace_id');
    expect(exposed.body).toContain('price_responses_total{pair="eth-usdt",status="ok"} 1\n');
    const checked = run('promtool', ['check', 'metrics'], exposed.body);
    expect({ status: checked.status, output: checked.output }).toEqual({ status: 0, output: checked.output });
  });
});

describe('one process: OpenMetrics', () => {
  it('When the registry is exposed as OpenMetrics, then Prometheus stores exactly the series and values of the text format', async () => {
    const metrics = serviceMetrics();
    const openMetrics = await exposeRegistry(metrics.registry, 'openmetrics');
    const text = await exposeRegistry(metrics.registry, 'prometheus');
    expect(openMetrics.contentType).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(openMetrics.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const stored = ingestOpenMetrics(openMetrics.body);
    expect(stored.size).toBeGreaterThan(50);
    expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(textSamples(text.body)));
  });

  it('When the registry is exposed as OpenMetrics, then it is well formed, counters are declared without _total and the traced latencies carry their exemplars', async () => {
    const metrics = serviceMetrics();
    const { body } = await exposeRegistry(metrics.registry, 'openmetrics');
    const { families, exemplars } = checkOpenMetrics(body);
    expect(families.get('price_responses')).toBe('counter');
    expect(families.get('redis_errors')).toBe('counter');
    expect(families.get('http_request_duration_seconds')).toBe('histogram');
    expect(body).toContain('\nprice_responses_total{pair="eth-usdt",status="ok"} 1\n');
    expect(body).toContain('\nredis_errors_total{operation="get"} 1\n');
    expect(body).not.toContain('_total_total');
    // 0.02 s falls in (0.01, 0.025], 3 s in (2.5, 5]; the untraced 3 ms and the 404 have none.
    expect(priceExemplars(exemplars)).toEqual({ '0.025': [TRACE_A, 0.02], '5': [TRACE_B, 3] });
    expect(exemplars).toHaveLength(2);
    for (const e of exemplars) expect(Math.abs(e.timestamp - Date.now() / 1000)).toBeLessThan(60);
  });

  it('When the default metrics are on, as in the service, then the OpenMetrics text is ingested and declares the same families', async () => {
    const metrics = serviceMetrics(true);
    const { body } = await exposeRegistry(metrics.registry, 'openmetrics');
    const text = (await exposeRegistry(metrics.registry, 'prometheus')).body;
    const { families } = checkOpenMetrics(body);
    expect(ingestOpenMetrics(body).size).toBeGreaterThan(100);
    const declared = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [
      type === 'counter' ? (name as string).replace(/_total$/, '') : name,
      type,
    ]);
    expect(Object.fromEntries(families)).toEqual(Object.fromEntries(declared));
    expect(families.get('process_cpu_seconds')).toBe('counter');
  });

  it('When OpenMetrics has been served, then the Prometheus text format that follows is unchanged (prom-client renames counters in place)', async () => {
    const metrics = serviceMetrics();
    const before = await metrics.registry.metrics();
    await exposeRegistry(metrics.registry, 'openmetrics');
    expect(await metrics.registry.metrics()).toBe(before);
    expect((await exposeRegistry(metrics.registry, 'prometheus')).body).toBe(before);
  });

  it('When help texts and labels hold quotes, backslashes and newlines, or values are not finite, then they are escaped and still parse', () => {
    const json = [
      {
        name: 'odd_ratio',
        help: 'a "quoted" \\ help\nover two lines',
        type: 'gauge',
        aggregator: 'max',
        values: [
          { labels: { path: 'C:\\x "y"\nz' }, value: NaN },
          { labels: { path: 'up' }, value: Infinity },
          { labels: { path: 'down' }, value: -Infinity },
        ],
      },
      { name: 'ticks', help: 'a counter not named _total', type: 'counter', aggregator: 'sum', values: [] },
    ] as unknown as MetricsJson;
    json[1]?.values.push({ labels: {}, value: 4 });
    const body = renderOpenMetrics(json);
    expect(body).toBe(
      [
        '# HELP odd_ratio a \\"quoted\\" \\\\ help\\nover two lines',
        '# TYPE odd_ratio gauge',
        'odd_ratio{path="C:\\\\x \\"y\\"\\nz"} NaN',
        'odd_ratio{path="up"} +Inf',
        'odd_ratio{path="down"} -Inf',
        // Declared unknown, so the sample keeps its name instead of becoming ticks_total.
        '# HELP ticks a counter not named _total',
        '# TYPE ticks unknown',
        'ticks 4',
        '# EOF',
        '',
      ].join('\n'),
    );
    checkOpenMetrics(body);
    expect(ingestOpenMetrics(body).get('ticks{}')).toBe(4);
  });
});

describe('a cluster: aggregation over processes', () => {
  /** Each worker's JSON as the primary receives it: serialised over IPC. */
  async function overIpc(registry: Registry): Promise<MetricsJson> {
    return JSON.parse(JSON.stringify(await registry.getMetricsAsJSON())) as MetricsJson;
  }

  async function cluster() {
    const now = jest.spyOn(Date, 'now');
    const primary = createMetrics({ vocabulary: { pairs: ['eth-usdt'] }, defaultMetrics: false });
    primary.workersAlive(2);
    const a = createMetrics({ vocabulary: { pairs: ['eth-usdt'] }, defaultMetrics: false });
    const b = createMetrics({ vocabulary: { pairs: ['eth-usdt'] }, defaultMetrics: false });
    const priceA = a.httpObserver(PRICE_ROUTE, 'GET');
    const priceB = b.httpObserver(PRICE_ROUTE, 'GET');
    now.mockReturnValue(1_700_000_001_000);
    priceA(200, 0.02, TRACE_A); // (0.01, 0.025]
    priceA(200, 0.003);
    now.mockReturnValue(1_700_000_003_000);
    priceB(200, 0.015, TRACE_B); // same bucket, later: wins
    now.mockReturnValue(1_700_000_002_000);
    priceB(200, 0.3, TRACE_C); // (0.25, 0.5], only on b
    now.mockRestore();
    a.priceServedCounter('eth-usdt')('ok');
    b.priceServedCounter('eth-usdt')('ok');
    return [await overIpc(primary.registry), await overIpc(a.registry), await overIpc(b.registry)];
  }

  it("When prom-client's AggregatorRegistry aggregates, then it drops the exemplars", async () => {
    const perProcess = await cluster();
    expect(JSON.stringify(perProcess)).toContain(TRACE_A);
    const aggregated = await AggregatorRegistry.aggregate(perProcess).getMetricsAsJSON();
    expect(JSON.stringify(aggregated)).not.toContain('trace_id');
  });

  it('When the processes are aggregated with exemplars, then each bucket gets the latest exemplar of any process and counts are summed', async () => {
    const perProcess = await cluster();
    for (const order of [perProcess, [...perProcess].reverse()]) {
      const { exemplars } = checkOpenMetrics(renderOpenMetrics(await aggregateWithExemplars(order)));
      expect(priceExemplars(exemplars)).toEqual({ '0.025': [TRACE_B, 0.015], '0.5': [TRACE_C, 0.3] });
      expect(exemplars.map((e) => e.timestamp).sort()).toEqual([1_700_000_002, 1_700_000_003]);
    }
  });

  it('When the aggregate is served as Prometheus text, then it is what AggregatorRegistry gave before, and OpenMetrics stores the same series', async () => {
    const perProcess = await cluster();
    const text = await exposeAggregated(perProcess, 'prometheus');
    expect(text.contentType).toBe(TEXT_CONTENT_TYPE);
    expect(text.body).toBe(await AggregatorRegistry.aggregate(perProcess).metrics());
    expect(text.body).not.toContain('trace_id');
    expect(text.body).toContain(
      `http_request_duration_seconds_bucket{route="${PRICE_ROUTE}",method="GET",status_code="200",le="0.025"} 3\n`,
    );
    expect(text.body).toContain('price_responses_total{pair="eth-usdt",status="ok"} 2\n');
    expect(text.body).toContain('cluster_workers_alive 2\n');

    const openMetrics = await exposeAggregated(perProcess, 'openmetrics');
    expect(openMetrics.contentType).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(openMetrics.body).toContain('\nprice_responses_total{pair="eth-usdt",status="ok"} 2\n');
    expect(openMetrics.body).not.toContain('_total_total');
    expect(Object.fromEntries(ingestOpenMetrics(openMetrics.body))).toEqual(
      Object.fromEntries(textSamples(text.body)),
    );
  });
});

describe('the /metrics server', () => {
  it('When a scraper asks for OpenMetrics, then it gets it; anyone else gets the text format; both vary on Accept', async () => {
    const metrics = serviceMetrics();
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ level: 'error', service: 'test', silent: true }),
      collect: (format) => exposeRegistry(metrics.registry, format),
    });
    try {
      const url = `http://127.0.0.1:${server.port}/metrics`;
      const scraped = await fetch(url, { headers: { Accept: PROMETHEUS_2_ACCEPT } });
      expect(scraped.headers.get('content-type')).toBe(OPENMETRICS_CONTENT_TYPE);
      expect(scraped.headers.get('vary')).toBe('Accept');
      const body = await scraped.text();
      expect(body.endsWith('\n# EOF\n')).toBe(true);
      expect(body).toContain(`# {trace_id="${TRACE_A}"} 0.02 `);

      const plain = await fetch(url);
      expect(plain.headers.get('content-type')).toBe(TEXT_CONTENT_TYPE);
      expect(plain.headers.get('vary')).toBe('Accept');
      expect(await plain.text()).toBe(await metrics.registry.metrics());
    } finally {
      await server.close();
    }
  });
});
