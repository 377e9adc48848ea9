import type { IncomingMessage } from 'node:http';
import type { Problem } from './problem';

/**
 * Parsing of the history routes' parameters. Every parameter at fault is collected with its reason, for
 * RFC 9457 `invalid-params`; nothing here throws.
 */

export interface InvalidParam {
  readonly name: string;
  readonly reason: string;
}

/** The 400 for parameters at fault: each named with its reason, in the detail and in `invalid-params`. */
export function invalidParameters(params: readonly InvalidParam[], instance?: string): Problem {
  const detail = params.map((p) => `${p.name}: ${p.reason}`).join('; ');
  return { code: 'INVALID_PARAMETERS', detail, instance, 'invalid-params': params };
}

/** The latest instant accepted anywhere (JavaScript dates end at 8.64e15 ms). */
const MAX_TIME_MS = 8_640_000_000_000_000;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * An instant as RFC 3339 (any offset, fractions past the millisecond truncated: "at or before") or as Unix
 * milliseconds. Undefined when it is neither, or names no real date (Feb 30).
 */
export function parseTime(text: string): number | undefined {
  if (/^\d{1,16}$/.test(text)) {
    const ms = Number(text);
    return ms <= MAX_TIME_MS ? ms : undefined;
  }
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', offset = 'Z'] = m;
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    ms,
  );
  const date = new Date(utc);
  // Date.UTC rolls Feb 30 into March and 24:00 into the next day: such a date is refused, not moved.
  if (
    date.getUTCFullYear() !== Number(year) ||
    date.getUTCMonth() !== Number(month) - 1 ||
    date.getUTCDate() !== Number(day) ||
    date.getUTCHours() !== Number(hour) ||
    date.getUTCMinutes() !== Number(minute) ||
    date.getUTCSeconds() !== Number(second)
  )
    return undefined;
  if (offset.toUpperCase() === 'Z') return utc;
  const sign = offset.startsWith('-') ? -1 : 1;
  const [oh, om] = offset.slice(1).split(':').map(Number) as [number, number];
  if (oh > 23 || om > 59) return undefined;
  const t = utc - sign * (oh * 60 + om) * 60_000;
  return t >= 0 && t <= MAX_TIME_MS ? t : undefined;
}

const DURATION_UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration such as `30s`, `5m`, `1h`, `1d` or `1500ms`, in ms; undefined otherwise. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text);
  if (m === null) return undefined;
  return Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS];
}

/** The query parameters of a request, each given at most once (a repeated one is a parameter at fault). */
export function queryOf(req: IncomingMessage, invalid: InvalidParam[]): Map<string, string> {
  const url = req.url ?? '/';
  const at = url.indexOf('?');
  const params = new Map<string, string>();
  if (at < 0) return params;
  let search: URLSearchParams;
  try {
    search = new URLSearchParams(url.slice(at + 1));
  } catch {
    return params;
  }
  for (const [name, value] of search) {
    if (params.has(name)) {
      if (!invalid.some((p) => p.name === name)) invalid.push({ name, reason: 'given more than once' });
    } else params.set(name, value);
  }
  return params;
}

/** The last non-empty segment of the request's path, decoded (e.g. the `{time}` of …/at/{time}). */
export function lastPathSegment(req: IncomingMessage): string | undefined {
  const url = req.url ?? '/';
  const path = url.split('?', 1)[0] as string;
  const segments = path.split('/').filter((s) => s.length > 0);
  const last = segments[segments.length - 1];
  if (last === undefined) return undefined;
  try {
    return decodeURIComponent(last);
  } catch {
    return undefined;
  }
}

/** An opaque page cursor: the start (ms) of the page's first candle. */
export function encodeCursor(startMs: number): string {
  return Buffer.from(`c1:${startMs}`).toString('base64url');
}

export function decodeCursor(text: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(text)) return undefined;
  const m = /^c1:(\d{1,16})$/.exec(Buffer.from(text, 'base64url').toString());
  return m === null ? undefined : Number(m[1]);
}

export const iso = (ms: number): string => new Date(ms).toISOString();
