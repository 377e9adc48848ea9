/** The parts of Artillery's `--output` JSON (2.0.x) the gates and the report read. */
export interface Summary {
  min: number;
  max: number;
  count: number;
  mean: number;
  p50: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
}

export interface ArtilleryWindow {
  /** Start of the window, epoch ms (a string in intermediate windows). */
  period: number | string;
  counters: Record<string, number>;
  rates: Record<string, number>;
  summaries: Record<string, Summary>;
  firstCounterAt?: number;
  lastCounterAt?: number;
  firstMetricAt?: number;
  lastMetricAt?: number;
}

export interface ArtilleryReport {
  aggregate: ArtilleryWindow;
  intermediate: ArtilleryWindow[];
}

export const RESPONSE_TIME = 'http.response_time';

export function counter(window: ArtilleryWindow, name: string): number {
  return window.counters[name] ?? 0;
}

/** Sum of every counter whose name starts with `prefix` (e.g. all `errors.` or all `http.codes.5`). */
export function counterSum(window: ArtilleryWindow, prefix: string): number {
  let total = 0;
  for (const [name, value] of Object.entries(window.counters)) if (name.startsWith(prefix)) total += value;
  return total;
}

/** Counters under `prefix`, keyed by the rest of the name: `http.codes.` gives { "200": n, "304": m }. */
export function countersUnder(window: ArtilleryWindow, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(window.counters)) {
    if (name.startsWith(prefix)) out[name.slice(prefix.length)] = value;
  }
  return out;
}

/** Seconds from the first to the last metric Artillery recorded: how long the load really ran. */
export function activeSeconds(window: ArtilleryWindow): number {
  const first = window.firstCounterAt ?? window.firstMetricAt;
  const last = window.lastCounterAt ?? window.lastMetricAt;
  return first === undefined || last === undefined ? 0 : (last - first) / 1000;
}
