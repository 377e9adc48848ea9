import type { SourceView } from '../domain/aggregation';

export type { SourceView };

/**
 * What one aggregation round publishes for a pair: the last good price and the current state of every
 * source. Workers receive it over IPC from the primary, replicas and cold workers read it from Redis (L2).
 * Status and age are not stored: they depend on the time of the request.
 */
export interface PriceSnapshot {
  readonly v: 1;
  /** Pair slug, e.g. "eth-usdt". */
  readonly pair: string;
  /** "ETH/USDT" */
  readonly symbol: string;
  /** The last price that met the quorum; absent until the first good round. */
  readonly price?: {
    readonly price: string;
    readonly bid: string;
    readonly ask: string;
    readonly confidence: string;
    /** Oldest source timestamp behind the price (epoch ms): age is measured from here. */
    readonly timestampMs: number;
  };
  /** When this round ran (epoch ms). */
  readonly updatedAtMs: number;
  readonly quorum: { readonly used: number; readonly configured: number; readonly min: number };
  readonly sources: readonly SourceView[];
}

export type PriceStatus = 'ok' | 'degraded' | 'stale' | 'unavailable';

export interface FreshnessRules {
  /** Fresh for this long after the price timestamp (CACHE_TTL). */
  readonly freshnessMs: number;
  /** Served, marked stale, until this age; unavailable after. */
  readonly maxStalenessMs: number;
}

/** The status a snapshot has at a given moment. */
export function statusAt(snapshot: PriceSnapshot, nowMs: number, rules: FreshnessRules): PriceStatus {
  if (snapshot.price === undefined) return 'unavailable';
  const age = nowMs - snapshot.price.timestampMs;
  if (age > rules.maxStalenessMs) return 'unavailable';
  if (age > rules.freshnessMs || snapshot.quorum.used < snapshot.quorum.min) return 'stale';
  if (snapshot.quorum.used < snapshot.quorum.configured) return 'degraded';
  return 'ok';
}
