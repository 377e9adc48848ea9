import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Exemplar } from './hot-metrics';
import type { Logger } from './logger';

/** What `registry.getMetricsAsJSON()` returns: the shape workers send to the primary. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * The two exposition formats served on /metrics: `prometheus` is prom-client's text format 0.0.4, exactly
 * as before exemplars existed; `openmetrics` is OpenMetrics 1.0.0, the only one that carries exemplars.
 */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

export interface Exposition {
  contentType: string;
  body: string;
}

export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/** A sample as found in prom-client's JSON: its public type omits metricName and exemplar. */
interface Sample {
  value: number;
  labels: Record<string, string | number | undefined>;
  metricName?: string;
  /** prom-client's own counters and histograms set it to null when exemplars are off. */
  exemplar?: Exemplar | null;
}

const OPENMETRICS_VERSIONS = new Set(['1.0.0', '0.0.1']);

/**
 * The format an Accept header asks for: OpenMetrics when it ranks `application/openmetrics-text` (version
 * 1.0.0, 0.0.1 or none) at least as high as the text format (`text/plain`, `text/*`, `*\/*`); otherwise, and
 * without an Accept header (curl, a browser), the Prometheus text format. Prometheus 2.x always sends
 * `application/openmetrics-text;version=1.0.0,...;q=0.75,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1`.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined) return 'prometheus';
  let openMetrics = 0;
  let text = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    let q = 1;
    let version: string | undefined;
    for (const param of params) {
      const [key = '', value = ''] = param.split('=').map((part) => part.trim());
      if (key === 'q') q = Number(value);
      else if (key === 'version') version = value;
    }
    if (!(q > 0)) continue;
    if (type === 'application/openmetrics-text') {
      if (version === undefined || OPENMETRICS_VERSIONS.has(version)) openMetrics = Math.max(openMetrics, q);
    } else if (type === 'text/plain' || type === 'text/*' || type === '*/*') {
      text = Math.max(text, q);
    }
  }
  return openMetrics > 0 && openMetrics >= text ? 'openmetrics' : 'prometheus';
}

const escapeText = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** `{a="1",b="2"}`; for no label, nothing on a sample and `{}` on an exemplar (where the braces are required). */
function formatLabels(labels: Record<string, string | number | undefined>, braces = false): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (value !== undefined) parts.push(`${name}="${escapeText(String(value))}"`);
  }
  return parts.length === 0 && !braces ? '' : `{${parts.join(',')}}`;
}

const OPENMETRICS_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary']);

/**
 * OpenMetrics 1.0.0 text from prom-client's JSON, with the exemplars of counter and histogram bucket
 * samples. Sample names, labels and values are those of the Prometheus text format, so Prometheus stores
 * the same series whichever format it scraped.
 *
 * Not prom-client's own OpenMetrics output: it names the samples of every counter `<name>_total`, so a
 * counter already named `x_total` (all of ours) comes out as `x_total_total`, except for prom-client's own
 * counters, whose name it strips of `_total` in place on the live registry: every later Prometheus text
 * scrape then exports `x` instead of `x_total`. Here a counter family is declared without `_total` and its
 * sample keeps the name it has (`# TYPE x counter`, `x_total 3`); a counter whose name lacks the suffix is
 * declared `unknown`, so that its sample name does not change either.
 */
export function renderOpenMetrics(metrics: MetricsJson): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    const { name } = metric;
    // A string at run time ('counter', ...), whatever prom-client's declared enum says.
    const type = metric.type as unknown as string;
    const counter = type === 'counter' && name.endsWith('_total');
    const family = counter ? name.slice(0, -'_total'.length) : name;
    const declared = counter || (type !== 'counter' && OPENMETRICS_TYPES.has(type)) ? type : 'unknown';
    lines.push(`# HELP ${family} ${escapeText(metric.help)}`, `# TYPE ${family} ${declared}`);
    for (const sample of metric.values as Sample[]) {
      const sampleName = sample.metricName ?? name;
      let line = `${sampleName}${formatLabels(sample.labels)} ${formatNumber(sample.value)}`;
      const { exemplar } = sample;
      if (exemplar && (counter || (type === 'histogram' && sampleName.endsWith('_bucket')))) {
        line += ` # ${formatLabels(exemplar.labelSet, true)} ${formatNumber(exemplar.value)} ${exemplar.timestamp}`;
      }
      lines.push(line);
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

function sampleKey(sample: Sample): string {
  const labels = Object.keys(sample.labels)
    .sort()
    .map((name) => `${name}=${String(sample.labels[name])}`);
  return `${sample.metricName ?? ''}\u0000${labels.join('\u0000')}`;
}

/**
 * AggregatorRegistry.aggregate() of every process's metrics, as JSON, with the exemplars it drops put back:
 * for each series and bucket, the latest exemplar any process has.
 */
export async function aggregateWithExemplars(perProcess: readonly MetricsJson[]): Promise<MetricsJson> {
  const aggregated = await AggregatorRegistry.aggregate([...perProcess]).getMetricsAsJSON();
  const latest = new Map<string, Map<string, Exemplar>>();
  for (const metrics of perProcess) {
    for (const metric of metrics) {
      for (const sample of metric.values as Sample[]) {
        if (!sample.exemplar) continue;
        let byKey = latest.get(metric.name);
        if (byKey === undefined) latest.set(metric.name, (byKey = new Map()));
        const key = sampleKey(sample);
        const seen = byKey.get(key);
        if (seen === undefined || sample.exemplar.timestamp > seen.timestamp) byKey.set(key, sample.exemplar);
      }
    }
  }
  for (const metric of aggregated) {
    const byKey = latest.get(metric.name);
    if (byKey === undefined) continue;
    for (const sample of metric.values as Sample[]) {
      const exemplar = byKey.get(sampleKey(sample));
      if (exemplar !== undefined) sample.exemplar = exemplar;
    }
  }
  return aggregated;
}

/** One process's registry in the asked format. */
export async function exposeRegistry(registry: Registry, format: ExpositionFormat): Promise<Exposition> {
  if (format === 'openmetrics') {
    return {
      contentType: OPENMETRICS_CONTENT_TYPE,
      body: renderOpenMetrics(await registry.getMetricsAsJSON()),
    };
  }
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** Several processes' metrics (the cluster primary and its workers) aggregated, in the asked format. */
export async function exposeAggregated(
  perProcess: readonly MetricsJson[],
  format: ExpositionFormat,
): Promise<Exposition> {
  if (format === 'openmetrics') {
    return {
      contentType: OPENMETRICS_CONTENT_TYPE,
      body: renderOpenMetrics(await aggregateWithExemplars(perProcess)),
    };
  }
  const aggregated = AggregatorRegistry.aggregate([...perProcess]);
  return { contentType: aggregated.contentType, body: await aggregated.metrics() };
}

/**
 * GET /metrics on its own port, so scrapes never queue behind API traffic and the API port never exposes
 * internals. `collect` gathers (and, in a cluster, aggregates) the registries, in the format the scraper's
 * Accept header asks for (negotiateFormat).
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  collect: (format: ExpositionFormat) => Promise<Exposition>;
  logger: Logger;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    options.collect(negotiateFormat(req.headers.accept)).then(
      ({ contentType, body }) =>
        res.writeHead(200, { 'Content-Type': contentType, Vary: 'Accept' }).end(body),
      (error: unknown) => {
        options.logger.error('metrics collection failed', { error });
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics collection failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
