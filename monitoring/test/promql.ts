/**
 * PromQL read through Prometheus's own grammar (@prometheus-io/lezer-promql, the parser behind the
 * Prometheus UI's editor): syntax errors, the selectors an expression reads (metric name and label
 * matchers), the ranges it uses and the function each range is handed to. The package ships a CommonJS
 * build (exports.require), so jest loads it with a plain import.
 *
 * Grafana's built-in variables are not PromQL: $__rate_interval, $__interval and $__range stand for
 * durations and $__range_s and friends for numbers. parsePromQL substitutes marker values before parsing
 * (as grafana/dashboard-linter does), so a range can still be recognised as $__rate_interval. Dashboard
 * variables such as $pair only occur inside label-matcher strings here, where they are plain text.
 */
import { parser } from '@prometheus-io/lezer-promql';

/** The grammar's node type (taken from the parser: @lezer/common's ESM and CJS typings differ). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** Durations that stand for Grafana's interval variables while parsing; nobody writes these by hand. */
export const GRAFANA_DURATION_MARKERS: Readonly<Record<string, string>> = {
  __rate_interval: '8869990787ms',
  __interval: '8869990788ms',
  __range: '8869990789ms',
  __auto: '8869990790ms',
};
const GRAFANA_NUMBER_VARIABLES = ['__range_s', '__range_ms', '__interval_ms', '__rate_interval_ms'];

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  /** The metric name: the identifier before the braces, a quoted name inside them, or __name__="...". */
  name: string | undefined;
  /** Label matchers other than the metric name. */
  matchers: Matcher[];
  /** The range when the selector is a range vector (`foo[5m]`), as written after variable substitution. */
  range: string | undefined;
  /** Lower-case name of the function the (range) selector is the direct argument of, if any. */
  fn: string | undefined;
  /** The selector's source text. */
  text: string;
}

export interface ParsedPromQL {
  /** Empty when the expression is valid PromQL. */
  errors: string[];
  selectors: Selector[];
}

/** Replaces Grafana's built-in interval variables with marker durations and numbers. */
export function substituteGrafanaBuiltins(expr: string): string {
  let text = expr;
  for (const name of GRAFANA_NUMBER_VARIABLES)
    text = text.replace(new RegExp(`\\$\\{${name}\\}|\\$${name}(?![\\w])`, 'g'), '8869990791');
  for (const [name, marker] of Object.entries(GRAFANA_DURATION_MARKERS))
    text = text.replace(new RegExp(`\\$\\{${name}\\}|\\$${name}(?![\\w])`, 'g'), marker);
  return text;
}

/** The value of a PromQL string literal: "..." and '...' with Go escapes, `...` raw. */
export function unquote(literal: string): string {
  const quote = literal[0];
  const body = literal.slice(1, -1);
  if (quote === '`') return body;
  return body.replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{3}|.)/g, (_m, esc: string) => {
    if (esc.length > 1 && (esc[0] === 'u' || esc[0] === 'x'))
      return String.fromCharCode(parseInt(esc.slice(1), 16));
    if (/^[0-7]{3}$/.test(esc)) return String.fromCharCode(parseInt(esc, 8));
    return (
      ({ n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[esc] ??
      esc
    );
  });
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) out.push(child);
  return out;
}

/** Wrappers that do not change which function a selector is handed to. */
const TRANSPARENT = new Set(['OffsetExpr', 'StepInvariantExpr', 'AnchoredExpr', 'SmoothedExpr']);

function enclosingFunction(node: SyntaxNode, text: string): string | undefined {
  let parent = node.parent;
  while (parent !== null && TRANSPARENT.has(parent.name)) parent = parent.parent;
  if (parent?.name !== 'FunctionCallBody') return undefined;
  const call = parent.parent;
  const identifier = call?.getChild('FunctionIdentifier');
  return identifier ? text.slice(identifier.from, identifier.to).toLowerCase() : undefined;
}

function opOf(node: SyntaxNode | null): Matcher['op'] {
  const name = node?.firstChild?.name;
  return name === 'EqlSingle' ? '=' : name === 'Neq' ? '!=' : name === 'EqlRegex' ? '=~' : '!~';
}

function readSelector(node: SyntaxNode, text: string): Selector {
  const src = (n: SyntaxNode) => text.slice(n.from, n.to);
  const identifier = node.getChild('Identifier');
  let name = identifier ? src(identifier) : undefined;
  const matchers: Matcher[] = [];
  for (const m of children(node.getChild('LabelMatchers') ?? node).filter(
    (c) => c.name.endsWith('Matcher') || c.name === 'QuotedLabelName',
  )) {
    if (m.name === 'QuotedLabelName') {
      // {"utf8.metric.name", ...}: a quoted name on its own is the metric name (Prometheus 3).
      const literal = m.getChild('StringLiteral');
      if (literal) name = unquote(src(literal));
      continue;
    }
    const labelNode =
      m.name === 'QuotedLabelMatcher'
        ? m.getChild('QuotedLabelName')?.getChild('StringLiteral')
        : m.getChild('LabelName');
    const valueNode = m.getChildren('StringLiteral').at(-1);
    if (!labelNode || !valueNode) continue;
    const label = m.name === 'QuotedLabelMatcher' ? unquote(src(labelNode)) : src(labelNode);
    const matcher: Matcher = { label, op: opOf(m.getChild('MatchOp')), value: unquote(src(valueNode)) };
    if (label === '__name__' && matcher.op === '=') name = matcher.value;
    else matchers.push(matcher);
  }
  const matrix = node.parent?.name === 'MatrixSelector' ? node.parent : undefined;
  const duration = matrix?.getChild('DurationExpr');
  return {
    name,
    matchers,
    range: duration ? src(duration) : undefined,
    fn: enclosingFunction(matrix ?? node, text),
    text: src(matrix ?? node),
  };
}

/** Parses a PromQL expression (Grafana built-ins substituted first). */
export function parsePromQL(expr: string): ParsedPromQL {
  const text = substituteGrafanaBuiltins(expr);
  const tree = parser.parse(text);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  if (text.trim() === '') return { errors: ['empty expression'], selectors };
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) {
        const at = ref.from;
        const near = text.slice(Math.max(0, at - 20), at + 20).replace(/\s+/g, ' ');
        errors.push(`syntax error at offset ${at}: …${near}…`);
      }
      if (ref.name === 'VectorSelector') selectors.push(readSelector(ref.node, text));
    },
  });
  return { errors, selectors };
}

/** Throws with the expression when it is not valid PromQL. */
export function parseValidPromQL(expr: string): ParsedPromQL {
  const parsed = parsePromQL(expr);
  if (parsed.errors.length > 0) throw new Error(`invalid PromQL: ${parsed.errors.join('; ')}\n${expr}`);
  return parsed;
}

const HISTOGRAM_SUFFIX = /_(bucket|count|sum)$/;

/**
 * The base name of a series name: a histogram's _bucket, _count and _sum series all map to the histogram's
 * name. Recording-rule names (level:metric:operations, with colons) are returned unchanged.
 */
export function baseMetricName(name: string): string {
  return name.includes(':') ? name : name.replace(HISTOGRAM_SUFFIX, '');
}

/** Metric names as written (a histogram's _bucket/_sum/_count kept apart), in order, deduplicated. */
export function seriesNamesInExpr(expr: string): string[] {
  const names: string[] = [];
  for (const { name } of parseValidPromQL(expr).selectors)
    if (name && !names.includes(name)) names.push(name);
  return names;
}

/**
 * Metric names an expression selects, in order of first appearance, deduplicated, histogram series folded
 * to the histogram's base name (see baseMetricName). Recording-rule names are kept as written, so a caller
 * can resolve them against the rules that define them. Throws on invalid PromQL.
 */
export function metricNamesInExpr(expr: string): string[] {
  return [...new Set(seriesNamesInExpr(expr).map(baseMetricName))];
}

/**
 * A Grafana Prometheus variable query as the PromQL it runs: label_values(selector, label) reads the
 * selector, label_values(label) and label_names() read no metric (undefined), query_result(expr) reads
 * expr, anything else is itself an expression.
 */
export function templateQueryExpr(query: string): string | undefined {
  const labelValues = /^\s*label_values\s*\(\s*(.*?)\s*,\s*[\w.]+\s*\)\s*$/s.exec(query);
  if (labelValues) return labelValues[1];
  if (/^\s*(label_values\s*\(\s*[\w.]+\s*\)|label_names\s*\(\s*\))\s*$/.test(query)) return undefined;
  const queryResult = /^\s*query_result\s*\((.*)\)\s*$/s.exec(query);
  if (queryResult) return queryResult[1];
  return query;
}

/** The metrics of a Grafana templating query (see templateQueryExpr). */
export function metricNamesInTemplateQuery(query: string): string[] {
  const expr = templateQueryExpr(query);
  return expr === undefined ? [] : metricNamesInExpr(expr);
}
