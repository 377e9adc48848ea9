/**
 * What the five dashboards have in common: settings, datasource variables, the deploy annotation, the
 * link menu to the other dashboards, and the layout of rows and panels. A dashboard module says only its
 * title, variables and rows.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { LOKI, LOKI_VARIABLE, PROMETHEUS, PROMETHEUS_VARIABLE, type Panel } from './panels';

export const JOB = 'price-service';
/** Every dashboard carries this tag; the link menu lists the dashboards that have it. */
const FAMILY_TAG = 'price-service';

export interface Row {
  title: string;
  panels: Panel[];
}

/** A filter variable over label values, e.g. $pair or $instance: all selected by default. */
export interface LabelVariable {
  name: string;
  label: string;
  /** label_values(...) query. */
  query: string;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  /** How far back the dashboard opens (now-3h by default). */
  from?: string;
  variables?: LabelVariable[];
  rows: Row[];
}

function datasourceVariable(name: string, label: string, type: string): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder(name).label(label).type(type).regex('');
}

function labelVariable(v: LabelVariable): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(v.name)
    .label(v.label)
    .datasource(PROMETHEUS)
    .query({ query: v.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .includeAll(true)
    .allValue('.*')
    .multi(true)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .current({ selected: true, text: ['All'], value: ['$__all'] })
    .hide(dashboard.VariableHide.DontHide);
}

/** A new app_info series (a new process or version) marks a start or deploy on every time axis. */
function deployAnnotation(): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name('Starts and deploys (new app_info series)')
    .datasource(PROMETHEUS)
    .enable(true)
    .iconColor('purple')
    .expr(`app_info{job="${JOB}"} unless app_info{job="${JOB}"} offset 1m`);
}

/** Grafana's own annotations and alerts, hidden from the toggle bar as in a new dashboard. */
function builtInAnnotation(): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .builtIn(1)
    .name('Annotations & Alerts')
    .datasource({ type: 'grafana', uid: '-- Grafana --' })
    .enable(true)
    .hide(true)
    .iconColor('rgba(0, 211, 255, 1)')
    .type('dashboard');
}

/** Fields of the Prometheus annotation query that the SDK's AnnotationQuery type does not model. */
const DEPLOY_ANNOTATION_EXTRAS = {
  step: '1m',
  titleFormat: 'Version {{version}}',
  tagKeys: 'instance,version',
};

const usesLoki = (rows: Row[]) =>
  rows.some((row) => row.panels.some((p) => p.build().datasource?.uid === LOKI.uid));

/** The classic dashboard JSON model of one dashboard, ready to be provisioned from a file. */
export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([FAMILY_TAG, ...spec.tags])
    .timezone('browser')
    .readonly()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .version(1)
    .refresh('30s')
    .time({ from: spec.from ?? 'now-3h', to: 'now' })
    .fiscalYearStartMonth(0)
    .liveNow(false)
    .timepicker(new dashboard.TimePickerBuilder())
    .annotation(builtInAnnotation())
    .annotation(deployAnnotation())
    .link(
      new dashboard.DashboardLinkBuilder('Price service dashboards')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([FAMILY_TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    )
    .withVariable(datasourceVariable(PROMETHEUS_VARIABLE, 'Prometheus', 'prometheus'));
  if (usesLoki(spec.rows)) builder.withVariable(datasourceVariable(LOKI_VARIABLE, 'Loki', 'loki'));
  for (const v of spec.variables ?? []) builder.withVariable(labelVariable(v));

  // Panel ids in reading order: stable as long as the layout is, and unique as Grafana requires.
  let id = 0;
  for (const row of spec.rows) {
    builder.withRow(new dashboard.RowBuilder(row.title).id(++id));
    for (const panel of row.panels) builder.withPanel(panel.id(++id));
  }
  const built = builder.build();
  const deploy = built.annotations?.list?.find((a) => a.builtIn !== 1);
  if (deploy) Object.assign(deploy, DEPLOY_ANNOTATION_EXTRAS);
  for (const v of built.templating?.list ?? []) {
    const query = (v.query as { query?: string } | undefined)?.query;
    if (v.type === 'query' && query) Object.assign(v, { definition: query });
  }
  return built;
}

export const PAIR_VARIABLE: LabelVariable = {
  name: 'pair',
  label: 'Pair',
  query: `label_values(price_responses_total{job="${JOB}"}, pair)`,
};
export const SOURCE_VARIABLE: LabelVariable = {
  name: 'source',
  label: 'Source',
  query: `label_values(upstream_requests_total{job="${JOB}"}, source)`,
};
export const INSTANCE_VARIABLE: LabelVariable = {
  name: 'instance',
  label: 'Replica',
  query: `label_values(up{job="${JOB}"}, instance)`,
};
