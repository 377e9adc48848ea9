/**
 * What make bench reads from /proc and from Prometheus expositions, and how it summarises figures: shared by
 * bench.ts and the streaming section.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The direct children of a process: the cluster's workers. */
export function childPids(pid: number | undefined): string[] {
  return spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * utime + stime, in clock ticks (10 ms: USER_HZ 100), of a process and its direct children (the cluster's
 * workers), or of the workers alone.
 */
export function cpuTicks(pid: number | undefined, { workersOnly = false } = {}): number {
  const ticks = (p: string) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  const pids = workersOnly ? childPids(pid) : [String(pid), ...childPids(pid)];
  return pids.reduce((total, p) => total + ticks(p), 0);
}
export const TICK_US = 10_000;

export interface WorkerMemory {
  rss: number;
  anon: number;
  pss: number;
}

/** RSS of each child of pid, its private anonymous part (RssAnon) and proportional share (Pss), in MB. */
export function childMemory(pid: number | undefined): WorkerMemory[] {
  return childPids(pid).map((child) => {
    const read = (file: string, field: string) =>
      Number(
        new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
          readFileSync(`/proc/${child}/${file}`, 'utf8'),
        )?.[1] ?? NaN,
      ) / 1024;
    return {
      rss: read('status', 'VmRSS'),
      anon: read('status', 'RssAnon'),
      pss: read('smaps_rollup', 'Pss'),
    };
  });
}

/** Sum of every sample of a metric whose label text contains `labels`. */
export function sum(text: string, name: string, labels: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_:]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match?.[1] === name && (match[2] ?? '').includes(labels)) total += Number(match[3]);
  }
  return total;
}

/** Cumulative buckets (le → count) of an unlabelled histogram in an exposition. */
export function buckets(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}\\s+(\\S+)`).exec(line);
    if (match) out.set(match[1] === '+Inf' ? Infinity : Number(match[1]), Number(match[2]));
  }
  return out;
}

/** Cumulative buckets with the given bounds of raw observations: what a histogram of them would expose. */
export function bucketize(values: number[], bounds: number[]): Map<number, number> {
  return new Map(bounds.map((le) => [le, values.filter((v) => v <= le).length]));
}

/** Prometheus' histogram_quantile over the difference of two scrapes: linear within the bucket. */
export function quantile(q: number, after: Map<number, number>, before = new Map<number, number>()): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const upper = bounds[i] as number;
    const count = counts[i] as number;
    if (count >= rank) {
      if (!Number.isFinite(upper)) return lower;
      return lower + ((upper - lower) * (rank - below)) / Math.max(1, count - below);
    }
    lower = upper;
    below = count;
  }
  return lower;
}

export function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
export const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

/** The node flags a process runs with: its command line's arguments before the script. */
export function nodeFlags(pid: string | undefined): string[] {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1);
  const script = args.findIndex((arg) => !arg.startsWith('-'));
  return script < 0 ? args.filter(Boolean) : args.slice(0, script);
}
