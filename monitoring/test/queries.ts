/**
 * Every query of the monitoring tree, with where it comes from: the expressions of the alert and recording
 * rules, the targets of every Grafana panel (PromQL or LogQL by the datasource), the dashboards'
 * annotation queries and template variables, and the queries embedded in the datasource provisioning
 * (Tempo's traces-to-metrics and traces-to-logs). The dashboards, rule files and datasource files are
 * arguments, so the same collectors read the broken fixtures of the tests.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DASHBOARDS_DIR, DATASOURCES_DIR, filesIn, readYaml } from './paths';
import { templateQueryExpr } from './promql';
import { RULE_FILES } from './rules';

export type Language = 'promql' | 'logql';

export interface Query {
  language: Language;
  expr: string;
  /** Human-readable origin, e.g. "price-service-overview › p99 latency [A]". */
  where: string;
  kind: 'rule' | 'panel' | 'annotation' | 'variable' | 'datasource';
  /** Dashboard file name without .json, panel title and target refId for panel queries. */
  dashboard?: string;
  panel?: string;
  refId?: string;
  /** Alert or recording rule name for rule queries. */
  rule?: string;
}

export interface DatasourceRef {
  type?: string;
  uid?: string;
}
export interface Target {
  refId: string;
  datasource?: DatasourceRef;
  expr?: string;
  exemplar?: boolean;
  legendFormat?: string;
  hide?: boolean;
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: DatasourceRef;
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: {
    defaults?: { unit?: string };
    overrides?: { properties?: { id: string; value?: unknown }[] }[];
  };
  targets?: Target[];
  panels?: Panel[];
}
export interface Variable {
  name: string;
  label?: string;
  type: string;
  datasource?: DatasourceRef;
  query?: { query: string } | string;
  refresh?: number;
  includeAll?: boolean;
  allValue?: string;
  multi?: boolean;
}
export interface Dashboard {
  uid: string;
  title: string;
  description?: string;
  editable?: boolean;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: { name: string; datasource?: DatasourceRef; expr?: string; builtIn?: number }[] };
}

export interface LoadedDashboard {
  /** File name without .json (the dashboard's uid). */
  name: string;
  json: Dashboard;
}

export const loadDashboard = (file: string): LoadedDashboard => ({
  name: basename(file, '.json'),
  json: JSON.parse(readFileSync(file, 'utf8')) as Dashboard,
});
export const loadDashboards = (dir = DASHBOARDS_DIR): LoadedDashboard[] =>
  filesIn(dir, /\.json$/).map(loadDashboard);

/** Every panel, those nested in collapsed rows included. */
export const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

const LANGUAGE_OF: Record<string, Language> = { prometheus: 'promql', loki: 'logql' };

/** The datasource type of a target: its own, else its panel's. */
export function targetDatasource(panel: Panel, target: Target): DatasourceRef | undefined {
  return target.datasource ?? panel.datasource;
}

export function variableQueryText(v: Variable): string {
  return typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
}

export function dashboardQueries({ name, json }: LoadedDashboard): Query[] {
  const queries: Query[] = [];
  for (const panel of allPanels(json)) {
    for (const target of panel.targets ?? []) {
      const language = LANGUAGE_OF[targetDatasource(panel, target)?.type ?? ''];
      if (language === undefined || target.expr === undefined) continue;
      queries.push({
        language,
        expr: target.expr,
        where: `${name} › ${panel.title} [${target.refId}]`,
        kind: 'panel',
        dashboard: name,
        panel: panel.title,
        refId: target.refId,
      });
    }
  }
  for (const a of json.annotations.list) {
    const language = LANGUAGE_OF[a.datasource?.type ?? ''];
    if (language && a.expr)
      queries.push({
        language,
        expr: a.expr,
        where: `${name} › annotation ${a.name}`,
        kind: 'annotation',
        dashboard: name,
      });
  }
  for (const v of json.templating.list.filter((t) => t.type === 'query')) {
    const language = LANGUAGE_OF[v.datasource?.type ?? ''];
    if (language === undefined) continue;
    const text = variableQueryText(v);
    const expr = language === 'promql' ? templateQueryExpr(text) : text;
    if (expr !== undefined)
      queries.push({
        language,
        expr,
        where: `${name} › variable $${v.name}`,
        kind: 'variable',
        dashboard: name,
      });
  }
  return queries;
}

interface RawRule {
  alert?: string;
  record?: string;
  expr: string | number;
}

export function ruleQueries(files: readonly string[] = RULE_FILES): Query[] {
  return files.flatMap((file) =>
    readYaml<{ groups: { name: string; rules: RawRule[] }[] }>(file).groups.flatMap((group) =>
      group.rules.map((rule) => ({
        language: 'promql' as const,
        expr: String(rule.expr),
        where: `${basename(file)} › ${rule.alert ? 'alert' : 'record'} ${rule.alert ?? rule.record}`,
        kind: 'rule' as const,
        rule: rule.alert ?? rule.record,
      })),
    ),
  );
}

interface ProvisionedDatasource {
  name: string;
  type: string;
  uid: string;
  jsonData?: {
    tracesToMetrics?: { queries?: { name: string; query: string }[] };
    tracesToLogsV2?: { customQuery?: boolean; query?: string };
  };
}

/**
 * Grafana expands $VAR in provisioning files, so a literal $ is written $$ there: the query Grafana runs
 * has the $$ turned back into $.
 */
const unescapeProvisioning = (text: string) => text.replaceAll('$$', '$');

export function datasourceQueries(files: readonly string[] = filesIn(DATASOURCES_DIR, /\.ya?ml$/)): Query[] {
  const queries: Query[] = [];
  for (const file of files) {
    for (const ds of readYaml<{ datasources: ProvisionedDatasource[] }>(file).datasources) {
      for (const q of ds.jsonData?.tracesToMetrics?.queries ?? [])
        queries.push({
          language: 'promql',
          expr: unescapeProvisioning(q.query),
          where: `datasource ${ds.name} › tracesToMetrics ${q.name}`,
          kind: 'datasource',
        });
      const toLogs = ds.jsonData?.tracesToLogsV2;
      if (toLogs?.customQuery && toLogs.query)
        queries.push({
          language: 'logql',
          expr: unescapeProvisioning(toLogs.query),
          where: `datasource ${ds.name} › tracesToLogsV2`,
          kind: 'datasource',
        });
    }
  }
  return queries;
}

/** Every query of the repository's monitoring tree. */
export function allQueries(): Query[] {
  return [...ruleQueries(), ...loadDashboards().flatMap(dashboardQueries), ...datasourceQueries()];
}
