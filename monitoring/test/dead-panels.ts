/**
 * Dead panels, found by query: every Prometheus target of every panel is run on a real Prometheus over a
 * time range, with the dashboard's template variables replaced by the values their own queries return on
 * that Prometheus (as Grafana would offer them) and Grafana's interval variables by the values Grafana
 * would use for a 1 s scrape interval. A target that returns no series with a number in it is dead: the
 * panel would say "No data" however long the stack ran in that situation.
 */
import type { LivePrometheus } from './live';
import { templateQueryExpr } from './promql';
import { allPanels, targetDatasource, variableQueryText, type LoadedDashboard } from './queries';

export interface TargetVerdict {
  dashboard: string;
  panel: string;
  refId: string;
  /** live: at least one series with a number; dead: none; not-evaluable: not a Prometheus query. */
  verdict: 'live' | 'dead' | 'not-evaluable';
  /** The query as run, after substitution. */
  query: string;
  series: number;
}

export interface Range {
  /** Unix seconds. */
  start: number;
  end: number;
  stepSeconds: number;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Grafana's $__rate_interval: max($__interval + scrape interval, 4 × scrape interval). */
export function grafanaBuiltins(range: Range, scrapeSeconds: number): Record<string, string> {
  const interval = range.stepSeconds;
  const seconds = Math.max(1, Math.round(range.end - range.start));
  return {
    __rate_interval: `${Math.max(interval + scrapeSeconds, 4 * scrapeSeconds)}s`,
    __interval: `${interval}s`,
    __interval_ms: String(interval * 1000),
    __range: `${seconds}s`,
    __range_s: String(seconds),
    __range_ms: String(seconds * 1000),
    __auto: `${interval}s`,
  };
}

export function substitute(expr: string, values: Record<string, string>): string {
  // Longest names first, so $__range_s is not read as $__range followed by "_s".
  const names = Object.keys(values).sort((a, b) => b.length - a.length);
  let text = expr;
  for (const name of names)
    text = text.replace(
      new RegExp(`\\$\\{${escapeRegex(name)}(?::\\w+)?\\}|\\$${escapeRegex(name)}(?!\\w)`, 'g'),
      values[name] as string,
    );
  return text;
}

interface SeriesResult {
  metric: Record<string, string>;
  values: [number, string][];
}

/** The values a dashboard's query variables take on this Prometheus, formatted as Grafana does for =~. */
export async function variableValues(
  prometheus: LivePrometheus,
  dashboard: LoadedDashboard,
  range: Range,
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const v of dashboard.json.templating.list.filter((t) => t.type === 'query')) {
    const text = variableQueryText(v);
    const label = /^\s*label_values\s*\(.*,\s*([\w.]+)\s*\)\s*$/s.exec(text)?.[1];
    const selector = templateQueryExpr(text);
    if (label === undefined || selector === undefined) continue;
    const series = await prometheus.api<Record<string, string>[]>(
      `/api/v1/series?match[]=${encodeURIComponent(selector)}&start=${range.start}&end=${range.end}`,
    );
    const found = [
      ...new Set(series.map((s) => s[label]).filter((x): x is string => x !== undefined)),
    ].sort();
    // No value at all would make every panel using it empty: leave the variable unreplaced, so it shows.
    if (found.length === 0) continue;
    // Regex-escaped as Grafana does, then escaped again for the PromQL string the value lands in.
    const regex =
      found.length === 1 ? escapeRegex(found[0] as string) : `(${found.map(escapeRegex).join('|')})`;
    values[v.name] = regex.replaceAll('\\', '\\\\');
  }
  return values;
}

/** Every target of every panel of the dashboard, run over the range. */
export async function evaluateDashboard(
  prometheus: LivePrometheus,
  dashboard: LoadedDashboard,
  range: Range,
  scrapeSeconds: number,
): Promise<TargetVerdict[]> {
  const vars = {
    ...grafanaBuiltins(range, scrapeSeconds),
    ...(await variableValues(prometheus, dashboard, range)),
  };
  const verdicts: TargetVerdict[] = [];
  for (const panel of allPanels(dashboard.json).filter((p) => p.type !== 'row')) {
    for (const target of panel.targets ?? []) {
      const at = { dashboard: dashboard.name, panel: panel.title, refId: target.refId };
      if (targetDatasource(panel, target)?.type !== 'prometheus' || !target.expr) {
        verdicts.push({ ...at, verdict: 'not-evaluable', query: target.expr ?? '', series: 0 });
        continue;
      }
      const query = substitute(target.expr, vars);
      const data = await prometheus.api<{ result: SeriesResult[] }>(
        `/api/v1/query_range?query=${encodeURIComponent(query)}&start=${range.start}&end=${range.end}&step=${range.stepSeconds}`,
      );
      const series = data.result.filter((s) => s.values.some(([, v]) => !Number.isNaN(Number(v)))).length;
      verdicts.push({ ...at, verdict: series > 0 ? 'live' : 'dead', query, series });
    }
  }
  return verdicts;
}
