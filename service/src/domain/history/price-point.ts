/** The state of one source in the round that made a point (a SourceState), kept for the fine resolution. */
export interface PointSource {
  readonly exchange: string;
  readonly state: string;
  /** The source's mid, when it brought a quote. */
  readonly mid?: string;
}

/** Statuses a published price can have; a fresh price is `ok` or `degraded`. */
export type PointStatus = 'ok' | 'degraded' | 'stale';

/** A price that came into effect at `t` (epoch ms) and stays in effect until the next point. */
export interface PricePoint {
  readonly t: number;
  /** Decimal string, never a float. */
  readonly price: string;
  readonly status: PointStatus;
  /** The sources that made it: present in the fine-resolution window only. */
  readonly sources?: readonly PointSource[];
}

/**
 * From `t` no price was in effect (the last one passed its maximum staleness and the service answered 503):
 * an explicit end, so a candle after it is a gap rather than the old price carried on.
 */
export interface GapPoint {
  readonly t: number;
  readonly status: 'unavailable';
}

export type HistoryPoint = PricePoint | GapPoint;

export function hasPrice(point: HistoryPoint): point is PricePoint {
  return point.status !== 'unavailable';
}

/**
 * How long a point can stay in effect without a successor. Points arrive every refresh round while the
 * service runs, so a point this old with nothing after it means nothing was published (the service or its
 * history was down): after it, no price is in effect rather than an old one passed off as current.
 */
export interface InEffectRules {
  readonly maxInEffectMs: number;
}

/**
 * The price in effect at `t`: the last point at or before `t`, if it has a price and has not outlived
 * maxInEffectMs. `points` sorted by time, ascending.
 */
export function pointInEffect(
  points: readonly HistoryPoint[],
  t: number,
  rules: InEffectRules,
): PricePoint | undefined {
  let lo = 0;
  let hi = points.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.t <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const point = found < 0 ? undefined : points[found]!;
  if (point === undefined || !hasPrice(point) || t - point.t >= rules.maxInEffectMs) return undefined;
  return point;
}
