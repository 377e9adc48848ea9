/**
 * The SLO dashboard, drawn from monitoring/slo/slos.yml like the rules are: objectives, the compliance
 * period, the alert windows, their burn-rate thresholds and the traffic guard are read from the spec, so a
 * changed objective or window changes the alerts and the dashboard together.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { alertWindows, parseSloSpec, type Slo, type SloSpec } from '../../slo/render-rules';
import { buildDashboard, JOB, type Row } from './dashboard';
import { stat, timeseries, type Steps } from './panels';

export const SLO_SPEC_PATH = resolve(__dirname, '..', '..', 'slo', 'slos.yml');

const percent = (ratio: number) => `${Number((ratio * 100).toPrecision(6))}%`;
const capitalised = (text: string) => `${text[0]?.toUpperCase()}${text.slice(1)}`;
const milliseconds = (seconds: number) => `${Math.round(seconds * 1000)}ms`;

/** How each SLI reads in a sentence: what a good request is, and what a bad one is. */
function wording(slo: Slo): { good: string; bad: string } {
  return 'threshold_seconds' in slo
    ? {
        good: `answered within ${milliseconds(slo.threshold_seconds)}`,
        bad: `slower than ${milliseconds(slo.threshold_seconds)}`,
      }
    : { good: 'not answered 5xx', bad: 'answered 5xx' };
}

/** "the last hour", "the last 6 hours", "the last 3 days" for 1h, 6h, 3d. */
function lastWindow(window: string): string {
  const [, count, unit] = /^(\d+)([smhdw])$/.exec(window) ?? [];
  const noun = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' }[unit ?? 's'] as string;
  return count === '1' ? `the last ${noun}` : `the last ${count} ${noun}s`;
}

const windowsOf = (spec: SloSpec) => [...spec.alerting.page.windows, ...spec.alerting.ticket.windows];

/** The alert window pair whose long window is `long` (burn rate 14.4 and short window 5m for 1h). */
function pairOf(spec: SloSpec, long: string): { burn_rate: number; short: string } {
  const window = windowsOf(spec).find((w) => w.long === long);
  if (window === undefined) throw new Error(`slos.yml has no alert window of ${long}`);
  return window;
}
const burnRate = (spec: SloSpec, long: string) => pairOf(spec, long).burn_rate;
const shortOf = (spec: SloSpec, long: string) => pairOf(spec, long).short;

function sloRow(spec: SloSpec, slo: Slo): Row {
  const name = capitalised(slo.name);
  const selector = `{job="${JOB}",slo="${slo.name}"}`;
  const burn = (w: string) =>
    `job:slo_error:ratio_rate${w}${selector} / on (job, slo) (1 - job:slo_objective:ratio${selector})`;
  const { good, bad } = wording(slo);
  const [fastPage, slowPage] = spec.alerting.page.windows.map((w) => w.long) as [string, string];
  const [fastTicket, slowTicket] = spec.alerting.ticket.windows.map((w) => w.long) as [string, string];
  const days = spec.period.replace(/d$/, ' days');
  const retention = 'errors' in slo ? ` (needs ${days} of retention)` : '';
  const policyText = (kind: 'page' | 'ticket') =>
    spec.alerting[kind].windows.map((w) => `${w.burn_rate} for ${w.long}+${w.short}`);
  const [page1, page2] = policyText('page') as [string, string];
  const [ticket1, ticket2] = policyText('ticket') as [string, string];
  // Every burn rate that opens a ticket or pages, from the lowest (yellow) to the fastest page (dark red).
  const colours = ['yellow', 'orange', 'red', 'dark-red'];
  const burnSteps = [...new Set(windowsOf(spec).map((w) => w.burn_rate))]
    .sort((a, b) => a - b)
    .map((rate, i, all): [number, string] => [rate, colours[i + colours.length - all.length] ?? 'red']);
  const burnStat = (long: string, description: string, thresholds: Steps) =>
    stat({
      title: `${name} burn rate, ${long}`,
      description,
      unit: 'suffix:×',
      width: 4,
      height: 4,
      decimals: 2,
      thresholds,
      query: { expr: burn(long) },
    });
  return {
    title: `${name} SLO`,
    panels: [
      stat({
        title: `${name} SLI, ${days}`,
        description: `Share of price requests ${good} over the last ${days}${retention}. Objective: ${percent(slo.objective)}.`,
        unit: 'percentunit',
        width: 4,
        height: 4,
        decimals: 3,
        thresholds: ['red', [slo.objective, 'green']],
        query: { expr: `1 - job:slo_error:ratio_rate${spec.period}${selector}` },
      }),
      stat({
        title: `${name} error budget remaining`,
        description: `Share of the ${days.replace(' days', '-day')} error budget left: 100% untouched, 0% spent, negative = SLO missed over the period.`,
        unit: 'percentunit',
        width: 4,
        height: 4,
        decimals: 1,
        // Quarters of the budget, not an alert threshold: orange once it is spent, red once the SLO is missed.
        thresholds: ['red', [0, 'orange'], [0.25, 'yellow'], [0.5, 'green']],
        query: { expr: `job:slo_error_budget_remaining:ratio${spec.period}${selector}` },
      }),
      burnStat(
        fastPage,
        `How fast the budget burns over ${lastWindow(fastPage)}: 1 spends it exactly in ${days}, ${burnRate(spec, fastPage)} pages (with the ${shortOf(spec, fastPage)} window).`,
        ['green', [1, 'yellow'], [burnRate(spec, slowPage), 'orange'], [burnRate(spec, fastPage), 'red']],
      ),
      burnStat(
        slowPage,
        `Burn rate over ${lastWindow(slowPage)}: ${burnRate(spec, slowPage)} pages (with the ${shortOf(spec, slowPage)} window).`,
        ['green', [1, 'yellow'], [burnRate(spec, fastTicket), 'orange'], [burnRate(spec, slowPage), 'red']],
      ),
      burnStat(
        slowTicket,
        `Burn rate over ${lastWindow(slowTicket)}: above ${burnRate(spec, slowTicket)} the budget will not last the period (ticket with the ${shortOf(spec, slowTicket)} window).`,
        ['green', [burnRate(spec, slowTicket), 'orange'], [burnRate(spec, fastTicket), 'red']],
      ),
      stat({
        title: `${name} alerts firing`,
        description: `Firing ${slo.alert} alerts (page and ticket).`,
        unit: 'none',
        width: 4,
        height: 4,
        thresholds: ['green', [1, 'red']],
        query: { expr: `count(ALERTS{job="${JOB}",alertstate="firing",slo="${slo.name}"}) or vector(0)` },
      }),
      timeseries({
        title: `${name} burn rate by window`,
        description: `Burn rate = error ratio / error budget, per alert window. A page needs both windows of a pair above its line (${page1}, ${page2}); a ticket ${ticket1.replace(' for ', ' (')}) or ${ticket2.replace(' for ', ' (')}).`,
        unit: 'suffix:×',
        width: 12,
        height: 8,
        thresholds: ['green', ...burnSteps],
        queries: alertWindows(spec).map((w) => ({ expr: burn(w), legend: w })),
        thresholdLines: true,
        legendCalcs: ['lastNotNull', 'max'],
      }),
      timeseries({
        title: `${name} error ratio by window`,
        description: `Share of price requests ${bad}, per alert window.`,
        unit: 'percentunit',
        width: 12,
        height: 8,
        decimals: 3,
        queries: ['5m', fastPage, slowPage, fastTicket, spec.period].map((w) => ({
          expr: `job:slo_error:ratio_rate${w}${selector}`,
          legend: w,
        })),
        legendCalcs: ['lastNotNull', 'max'],
      }),
    ],
  };
}

export function sloDashboard(spec = parseSloSpec(readFileSync(SLO_SPEC_PATH, 'utf8'))): Dashboard {
  const longWindows = windowsOf(spec).map((w) => w.long);
  const objectives = spec.slos
    .map((slo) =>
      'threshold_seconds' in slo
        ? `${slo.name} (${percent(slo.objective)} within ${milliseconds(slo.threshold_seconds)})`
        : `${slo.name} (${percent(slo.objective)} non-5xx)`,
    )
    .join(' and ');
  return buildDashboard({
    uid: 'price-service-slo',
    title: 'Price service / SLOs',
    description: `${capitalised(objectives)} SLOs of the price route over ${spec.period.replace(/d$/, ' days')}: SLI, error budget, burn rates per alert window.`,
    tags: ['slo'],
    from: 'now-7d',
    rows: [
      ...spec.slos.map((slo) => sloRow(spec, slo)),
      {
        title: 'Traffic guard',
        panels: [
          timeseries({
            title: 'Price requests per alert window',
            description: `Average request rate of the price route over each long alert window. Below ${spec.min_request_rate} req/s (dashed line) the burn-rate alerts of that window stay silent: too little traffic for a ratio to mean anything.`,
            unit: 'reqps',
            width: 24,
            height: 8,
            thresholds: ['red', [spec.min_request_rate, 'green']],
            queries: longWindows.map((w) => ({ expr: `job:slo_requests:rate${w}{job="${JOB}"}`, legend: w })),
            thresholdLines: true,
          }),
        ],
      },
    ],
  });
}
