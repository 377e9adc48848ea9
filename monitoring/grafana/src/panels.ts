/**
 * The panel builders every dashboard shares, on top of Grafana's typed builder
 * (@grafana/grafana-foundation-sdk). A panel is a title, a description, a unit and its queries; the look
 * (legend, tooltip, line style, colour mode) is decided here once, so the five dashboards stay alike.
 *
 * Datasources are never named by uid: panels, targets, variables and annotations refer to the dashboard's
 * datasource variables ($datasource for Prometheus, $loki_datasource for Loki), so a dashboard imports into
 * any Grafana whatever its datasources are called.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as loki from '@grafana/grafana-foundation-sdk/loki';
import * as logsPanel from '@grafana/grafana-foundation-sdk/logs';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as statPanel from '@grafana/grafana-foundation-sdk/stat';
import * as stateTimelinePanel from '@grafana/grafana-foundation-sdk/statetimeline';
import * as timeseriesPanel from '@grafana/grafana-foundation-sdk/timeseries';

export const PROMETHEUS_VARIABLE = 'datasource';
export const LOKI_VARIABLE = 'loki_datasource';
export const PROMETHEUS: dashboard.DataSourceRef = { type: 'prometheus', uid: `\${${PROMETHEUS_VARIABLE}}` };
export const LOKI: dashboard.DataSourceRef = { type: 'loki', uid: `\${${LOKI_VARIABLE}}` };

/** One PromQL query of a panel; `legend` is the legend format, `exemplar` asks for exemplars. */
export interface Query {
  expr: string;
  legend?: string;
  exemplar?: boolean;
}

/** Threshold steps: the base colour, then [value, colour] pairs in increasing order. */
export type Steps = [string, ...[number, string][]];

interface PanelOptions {
  title: string;
  description: string;
  /** A Grafana unit id (s, percentunit, reqps, ops, bytes, none, suffix:×, ...). */
  unit: string;
  width: number;
  height: number;
  decimals?: number;
  thresholds?: Steps;
}

type AnyPanel =
  | statPanel.PanelBuilder
  | timeseriesPanel.PanelBuilder
  | stateTimelinePanel.PanelBuilder
  | logsPanel.PanelBuilder;

function thresholds(steps: Steps): dashboard.ThresholdsConfigBuilder {
  const [base, ...rest] = steps;
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ color: base, value: null }, ...rest.map(([value, color]) => ({ color, value }))]);
}

function promTarget(query: Query, refId: string, instant: boolean): prometheus.DataqueryBuilder {
  const target = new prometheus.DataqueryBuilder()
    .refId(refId)
    .datasource(PROMETHEUS)
    .expr(query.expr)
    .legendFormat(query.legend ?? '__auto')
    .editorMode(prometheus.QueryEditorMode.Code);
  if (query.exemplar) target.exemplar(true);
  return instant ? target.instant() : target.range();
}

const refId = (index: number) => String.fromCharCode('A'.charCodeAt(0) + index);

/** What every panel has: title, description, unit, size, decimals, thresholds, the Prometheus datasource. */
function base<P extends AnyPanel>(panel: P, o: PanelOptions, color: dashboard.FieldColorModeId): P {
  panel
    .title(o.title)
    .description(o.description)
    .unit(o.unit)
    .span(o.width)
    .height(o.height)
    .colorScheme(new dashboard.FieldColorBuilder().mode(color))
    .thresholds(thresholds(o.thresholds ?? ['green']))
    .mappings([]);
  if (o.decimals !== undefined) panel.decimals(o.decimals);
  return panel;
}

/** A single big number, its background coloured by the thresholds (or plain, colorMode 'none'). */
export function stat(
  o: PanelOptions & {
    query: Query;
    colorMode?: 'background' | 'none';
    textMode?: 'value' | 'name';
    states?: State[];
  },
): statPanel.PanelBuilder {
  return base(new statPanel.PanelBuilder(), o, dashboard.FieldColorModeId.Thresholds)
    .mappings(o.states ? valueMappings(o.states) : [])
    .datasource(PROMETHEUS)
    .withTarget(promTarget(o.query, 'A', true))
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false))
    .colorMode(o.colorMode === 'none' ? common.BigValueColorMode.None : common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .justifyMode(common.BigValueJustifyMode.Auto)
    .textMode(o.textMode === 'name' ? common.BigValueTextMode.Name : common.BigValueTextMode.Value)
    .orientation(common.VizOrientation.Auto)
    .wideLayout(true)
    .showPercentChange(false);
}

/** Lines over time, one per series, with a table legend. */
export function timeseries(
  o: PanelOptions & {
    queries: Query[];
    min?: number;
    max?: number;
    fillOpacity?: number;
    stacked?: boolean;
    /** Draw the thresholds as dashed lines (the SLO burn-rate lines). */
    thresholdLines?: boolean;
    legendCalcs?: string[];
  },
): timeseriesPanel.PanelBuilder {
  const panel = base(new timeseriesPanel.PanelBuilder(), o, dashboard.FieldColorModeId.PaletteClassic)
    .datasource(PROMETHEUS)
    .drawStyle(common.GraphDrawStyle.Line)
    .lineWidth(1)
    .fillOpacity(o.fillOpacity ?? 10)
    .gradientMode(common.GraphGradientMode.None)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .axisSoftMin(0)
    .stacking(
      new common.StackingConfigBuilder()
        .mode(o.stacked ? common.StackingMode.Normal : common.StackingMode.None)
        .group('A'),
    )
    .thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(
        o.thresholdLines ? common.GraphThresholdsStyleMode.Dashed : common.GraphThresholdsStyleMode.Off,
      ),
    )
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true)
        .calcs(o.legendCalcs ?? ['mean', 'max', 'lastNotNull']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  o.queries.forEach((q, i) => panel.withTarget(promTarget(q, refId(i), false)));
  if (o.min !== undefined) panel.min(o.min);
  if (o.max !== undefined) panel.max(o.max);
  return panel;
}

/** A named state per value (0 = unreachable, 1 = connected), listed in the order the legend shows them. */
export interface State {
  value: number;
  text: string;
  color: string;
}

function valueMappings(states: State[]): dashboard.ValueMapping[] {
  const options = Object.fromEntries(
    states.map(({ value, text, color }, index) => [String(value), { text, color, index }]),
  );
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

/** A state per series over time (up/down, breaker state), the states named by value mappings. */
export function stateTimeline(
  o: PanelOptions & { query: Query; states: State[] },
): stateTimelinePanel.PanelBuilder {
  return base(new stateTimelinePanel.PanelBuilder(), o, dashboard.FieldColorModeId.Thresholds)
    .datasource(PROMETHEUS)
    .withTarget(promTarget(o.query, 'A', false))
    .mappings(valueMappings(o.states))
    .fillOpacity(80)
    .lineWidth(0)
    .alignValue(common.TimelineValueAlignment.Left)
    .mergeValues(true)
    .rowHeight(0.8)
    .showValue(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Single)
        .sort(common.SortOrder.None),
    );
}

/** Log lines from Loki, newest first. A logs panel shows text: it has no unit. */
export function logs(o: {
  title: string;
  description: string;
  width: number;
  height: number;
  expr: string;
}): logsPanel.PanelBuilder {
  return new logsPanel.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .span(o.width)
    .height(o.height)
    .datasource(LOKI)
    .withTarget(
      new loki.DataqueryBuilder()
        .refId('A')
        .datasource(LOKI)
        .expr(o.expr)
        .queryType('range')
        .editorMode(loki.QueryEditorMode.Code),
    )
    .showTime(true)
    .showLabels(false)
    .showCommonLabels(false)
    .wrapLogMessage(true)
    .prettifyLogMessage(false)
    .enableLogDetails(true)
    .dedupStrategy(common.LogsDedupStrategy.None)
    .sortOrder(common.LogsSortOrder.Descending);
}

export type Panel = AnyPanel;
