/**
 * make bench's targets: each compares the service with the bare baseline measured in the same run (a ratio,
 * or a difference of ratios), so that a loaded machine moves both sides alike. One table, MET or MISSED.
 */
import { fmt } from './measure';

export interface Target {
  name: string;
  /** The service's figure and the baseline's, as printed. */
  service: string;
  bare: string;
  /** The figure held to the bound (a ratio, or a difference). */
  value: number;
  bound: string;
  met: boolean;
  /** Reported but not held (e.g. a configuration the target is not for). */
  reported?: boolean;
}

/** A ratio service/bare (or bare/service) that must be at least, or at most, `bound`. */
export function ratioTarget(
  name: string,
  figures: { service: number; bare: number; unit: string; digits?: number },
  rule: { ratio: 'service/bare' | 'bare/service'; atLeast?: number; atMost?: number },
): Target {
  const value =
    rule.ratio === 'service/bare' ? figures.service / figures.bare : figures.bare / figures.service;
  const met =
    Number.isFinite(value) &&
    (rule.atLeast === undefined || value >= rule.atLeast) &&
    (rule.atMost === undefined || value <= rule.atMost);
  const show = (v: number) => `${fmt(v, figures.digits ?? 1)} ${figures.unit}`.trim();
  return {
    name,
    service: show(figures.service),
    bare: show(figures.bare),
    value,
    bound: `${rule.ratio} ${rule.atLeast !== undefined ? `>= ${rule.atLeast}` : `<= ${rule.atMost}`}`,
    met,
  };
}

export function printTargets(targets: Target[]): void {
  const header = ['target', 'service', 'bare', 'value', 'bound', 'result'];
  const rows = targets.map((t) => [
    t.name,
    t.service,
    t.bare,
    fmt(t.value, 3),
    t.bound,
    t.reported ? 'REPORTED' : t.met ? 'MET' : 'MISSED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ');
  console.log(`\ntargets (each against the bare baseline in this run):\n${line(header)}`);
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(line(row));
}

/** True unless a target held to its bound was missed. */
export const allMet = (targets: Target[]) => targets.every((t) => t.reported || t.met);
