import { load } from 'js-yaml';
import { z } from 'zod';
import { runbookUrl, runbookUrlBase } from '../alerts/runbook-url';

/**
 * Renders the SLO spec (monitoring/slo/slos.yml) into Prometheus recording and alerting rules, the way
 * sloth and pyrra do, with the project's rule names (level:metric:operations):
 *
 *   job:slo_requests:rate<w>                    requests per second to the route in scope, per window
 *   job:slo_error:ratio_rate<w>{slo}            share of bad events per window (the SLI's complement)
 *   job:slo_objective:ratio{slo}                the objective itself, for dashboards
 *   job:slo_error_budget_remaining:ratio<p>{slo}  1 = untouched, 0 = spent, < 0 = SLO missed over the period
 */

const duration = z.string().regex(/^\d+[smhdw]$/, 'must be a Prometheus duration such as 5m, 1h or 3d');
const selector = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*\{.+\}$/, 'must be a metric selector with label matchers');

const severityPolicy = z.object({
  severity: z.enum(['critical', 'warning', 'info']),
  for: duration,
  windows: z.array(z.object({ long: duration, short: duration, burn_rate: z.number().positive() })).min(1),
});

const sloBase = {
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  title: z.string().min(1),
  alert: z.string().regex(/^[A-Z][a-zA-Z0-9]*$/, 'must be UpperCamelCase'),
  objective: z.number().gt(0).lt(1),
  bad_events: z.string().min(1),
};

const specSchema = z.object({
  service: z.string().min(1),
  job: z.string().min(1),
  period: duration,
  requests: selector,
  min_request_rate: z.number().positive(),
  alerting: z.object({ page: severityPolicy, ticket: severityPolicy }),
  load_gates: z
    .object({
      p95_seconds: z.number().positive(),
      max_connection_errors: z.number().int().min(0),
      max_overrun_ratio: z.number().positive().max(1),
    })
    .strict(),
  slos: z
    .array(
      z.union([
        z.object({ ...sloBase, errors: selector }).strict(),
        z.object({ ...sloBase, threshold_seconds: z.number().positive(), good: selector }).strict(),
      ]),
    )
    .min(1),
});

export type SloSpec = z.infer<typeof specSchema>;
export type Slo = SloSpec['slos'][number];

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  rules: (RecordingRule | AlertingRule)[];
}
export interface RuleFile {
  groups: RuleGroup[];
}

export function parseSloSpec(text: string): SloSpec {
  const spec = specSchema.parse(load(text));
  for (const slo of spec.slos) {
    if ('good' in slo) {
      const le = /le="([^"]+)"/.exec(slo.good)?.[1];
      if (le === undefined || Number(le) !== slo.threshold_seconds) {
        throw new Error(`SLO ${slo.name}: the good selector must match le="${slo.threshold_seconds}"`);
      }
    }
  }
  return spec;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

export function durationSeconds(value: string): number {
  const match = /^(\d+)([smhdw])$/.exec(value);
  if (match === null) throw new Error(`not a duration: ${value}`);
  return Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number);
}

/** 1 - objective without binary noise: 1 - 0.999 is 0.0010000000000000009 in floating point. */
export function errorBudget(objective: number): number {
  return Number((1 - objective).toPrecision(12));
}

function daysText(seconds: number): string {
  const days = seconds / 86_400;
  return `${Number(days.toFixed(1))} day${days === 1 ? '' : 's'}`;
}

export function alertWindows(spec: SloSpec): string[] {
  const all = new Set<string>();
  for (const policy of [spec.alerting.page, spec.alerting.ticket]) {
    for (const w of policy.windows) {
      all.add(w.short);
      all.add(w.long);
    }
  }
  return [...all].sort((a, b) => durationSeconds(a) - durationSeconds(b));
}

function sum(selector: string, window: string): string {
  return `sum by (job) (rate(${selector}[${window}]))`;
}

/** Share of bad events over the window. With no 5xx series yet, the error side is 0, not missing. */
function errorRatioExpr(spec: SloSpec, slo: Slo, window: string): string {
  if ('errors' in slo) {
    return `(\n  ${sum(slo.errors, window)}\n  or\n  0 * ${sum(spec.requests, window)}\n)\n/\n${sum(spec.requests, window)}\n`;
  }
  return `1 - (\n  ${sum(slo.good, window)}\n  /\n  ${sum(spec.requests, window)}\n)\n`;
}

function burnAlert(spec: SloSpec, slo: Slo, kind: 'page' | 'ticket', runbookBase: string): AlertingRule {
  const policy = spec.alerting[kind];
  const budget = errorBudget(slo.objective);
  const branches = policy.windows.map((w) => {
    const threshold = `(${w.burn_rate} * ${budget})`;
    return [
      '(',
      `  job:slo_error:ratio_rate${w.long}{slo="${slo.name}"} > ${threshold}`,
      'and',
      `  job:slo_error:ratio_rate${w.short}{slo="${slo.name}"} > ${threshold}`,
      'and on (job)',
      `  job:slo_requests:rate${w.long} > ${spec.min_request_rate}`,
      ')',
    ].join('\n');
  });
  const windowsText = policy.windows
    .map((w) => `${w.burn_rate}x over ${w.long} and ${w.short}`)
    .join(', or ');
  const slowest = Math.min(...policy.windows.map((w) => w.burn_rate));
  const objectivePercent = `${Number((slo.objective * 100).toPrecision(6))}%`;
  const budgetPercent = `${Number((budget * 100).toPrecision(6))}%`;
  return {
    alert: slo.alert,
    expr: `${branches.join('\nor\n')}\n`,
    for: policy.for,
    labels: { severity: policy.severity, slo: slo.name },
    annotations: {
      summary: `${slo.title} SLO: error budget burning ${kind === 'page' ? 'fast' : 'steadily'} (${kind}).`,
      description:
        `{{ $value | humanizePercentage }} ${slo.bad_events} over the long alert window. ` +
        `Objective ${objectivePercent} over ${spec.period} (error budget ${budgetPercent}); burn rate above ${windowsText}, ` +
        `with more than ${spec.min_request_rate} req/s: at this pace the ${spec.period} budget is spent within ` +
        `${daysText(durationSeconds(spec.period) / slowest)}.`,
      runbook_url: runbookUrl(slo.alert, runbookBase),
    },
  };
}

/** The rules of the spec; each alert's runbook_url is built from `runbookBase` (RUNBOOK_URL_BASE). */
export function renderSloRules(spec: SloSpec, runbookBase = runbookUrlBase()): RuleFile {
  const windows = alertWindows(spec);
  const sli: RecordingRule[] = windows.map((w) => ({
    record: `job:slo_requests:rate${w}`,
    expr: `${sum(spec.requests, w)}\n`,
  }));
  for (const slo of spec.slos) {
    for (const w of windows) {
      sli.push({
        record: `job:slo_error:ratio_rate${w}`,
        expr: errorRatioExpr(spec, slo, w),
        labels: { slo: slo.name },
      });
    }
  }
  const budget: RecordingRule[] = [];
  for (const slo of spec.slos) {
    budget.push(
      {
        record: 'job:slo_objective:ratio',
        expr: `vector(${slo.objective})\n`,
        labels: { job: spec.job, slo: slo.name },
      },
      {
        record: `job:slo_error:ratio_rate${spec.period}`,
        expr: errorRatioExpr(spec, slo, spec.period),
        labels: { slo: slo.name },
      },
      {
        record: `job:slo_error_budget_remaining:ratio${spec.period}`,
        expr: `1 - job:slo_error:ratio_rate${spec.period}{slo="${slo.name}"} / ${errorBudget(slo.objective)}\n`,
        labels: { slo: slo.name },
      },
    );
  }
  const alerts = spec.slos.flatMap((slo) => [
    burnAlert(spec, slo, 'page', runbookBase),
    burnAlert(spec, slo, 'ticket', runbookBase),
  ]);
  return {
    groups: [
      { name: `${spec.service}-slo-sli`, rules: sli },
      { name: `${spec.service}-slo-budget`, rules: budget },
      { name: `${spec.service}-slo-alerts`, rules: alerts },
    ],
  };
}

/** Quoted the way prettier (singleQuote) leaves YAML scalars, so rendering and formatting agree. */
function quote(value: string): string {
  return value.includes("'") && !value.includes('"')
    ? JSON.stringify(value)
    : `'${value.replaceAll("'", "''")}'`;
}

function block(value: string, indent: string): string {
  return `|\n${value
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => `${indent}${line}`)
    .join('\n')}`;
}

function mapping(key: string, values: Record<string, string>, indent: string): string[] {
  return [`${indent}${key}:`, ...Object.entries(values).map(([k, v]) => `${indent}  ${k}: ${quote(v)}`)];
}

/** The rules as YAML text, with a header that says where they come from. */
export function renderSloRulesYaml(spec: SloSpec, runbookBase = runbookUrlBase()): string {
  const lines = [
    '# Generated from monitoring/slo/slos.yml by monitoring/slo/render-rules.ts. Do not edit by hand:',
    '# change the spec, then run  make generate',
    'groups:',
  ];
  for (const group of renderSloRules(spec, runbookBase).groups) {
    lines.push(`  - name: ${group.name}`, '    rules:');
    for (const rule of group.rules) {
      if ('record' in rule) {
        lines.push(`      - record: ${rule.record}`, `        expr: ${block(rule.expr, '          ')}`);
        if (rule.labels) lines.push(...mapping('labels', rule.labels, '        '));
      } else {
        lines.push(`      - alert: ${rule.alert}`, `        expr: ${block(rule.expr, '          ')}`);
        if (rule.for) lines.push(`        for: ${rule.for}`);
        lines.push(
          ...mapping('labels', rule.labels, '        '),
          ...mapping('annotations', rule.annotations, '        '),
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
