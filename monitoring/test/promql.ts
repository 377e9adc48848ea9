/**
 * A small PromQL scanner, enough to list the metric names an expression reads. It is not a parser: it
 * removes everything that cannot be a metric name (strings, label matchers, ranges, grouping label lists,
 * Grafana variables, function and aggregation names, keywords, numbers and durations) and keeps the rest.
 */

const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

/** Compared in lower case: PromQL keywords and the float literals Inf and NaN are case-insensitive. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'atan2',
  'inf',
  'nan',
]);

const HISTOGRAM_SUFFIX = /_(bucket|count|sum)$/;

/**
 * The base name of a series name: a histogram's _bucket, _count and _sum series all map to the histogram's
 * name. Recording-rule names (level:metric:operations, with colons) are returned unchanged.
 */
export function baseMetricName(name: string): string {
  return name.includes(':') ? name : name.replace(HISTOGRAM_SUFFIX, '');
}

/**
 * Metric names an expression selects, in order of first appearance, deduplicated, histogram series folded
 * to the histogram's base name (see baseMetricName). Recording-rule names are kept as written, so a caller
 * can resolve them against the rules that define them.
 */
export function metricNamesInExpr(expr: string): string[] {
  const names: string[] = [];
  const add = (name: string) => {
    const base = baseMetricName(name);
    if (!names.includes(base)) names.push(base);
  };

  let text = expr.replace(/#[^\n]*/g, ' ');
  // {__name__="metric"} selects a metric without naming it outside the braces.
  for (const match of text.matchAll(/__name__\s*=\s*"([^"]+)"/g)) add(match[1] as string);
  text = text
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // string literals
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ') // Grafana variables: $pair, ${source}, $__rate_interval
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range and subquery selectors
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' '); // label lists

  // An identifier that does not continue a number (1e3, 5m) or another name.
  for (const match of text.matchAll(/(?<![\w.:])([A-Za-z_:][\w:]*)/g)) {
    const token = match[1] as string;
    const after = text.slice((match.index ?? 0) + match[0].length);
    if (/^\s*\(/.test(after)) continue; // a function or an aggregation with its argument list
    if (AGGREGATIONS.has(token) || KEYWORDS.has(token.toLowerCase())) continue;
    add(token);
  }
  return names;
}

/** The metric of a Grafana templating query label_values(metric, label), if it names one. */
export function metricNamesInTemplateQuery(query: string): string[] {
  const match = /^\s*label_values\s*\(\s*(.*)\s*,\s*\w+\s*\)\s*$/s.exec(query);
  if (match === null)
    return /^\s*label_values\s*\(\s*\w+\s*\)\s*$/.test(query) ? [] : metricNamesInExpr(query);
  return metricNamesInExpr(match[1] as string);
}
