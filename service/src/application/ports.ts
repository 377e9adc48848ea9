import type { SourceOutcome } from '../domain/aggregation';
import type { Pair } from '../domain/pair';
import type { Quote } from '../domain/quote';
import type { PriceSnapshot } from './price-snapshot';

/** One exchange as the refresher sees it. Implementations: the breaker-wrapped HTTP source, test fakes. */
export interface PriceSource {
  readonly name: string;
  /** Resolves a validated quote or rejects with an AppError whose code says why (see domain/errors.ts). */
  fetchQuote(pair: Pair): Promise<Quote>;
}

/** The right to fetch one source for one pair in one refresh round (epoch = interval number). */
export interface SourceLease {
  readonly source: string;
  readonly pair: string;
  readonly epoch: number;
}

export const LEASE_RESULTS = ['acquired', 'held_elsewhere', 'unavailable'] as const;
export type LeaseResult = (typeof LEASE_RESULTS)[number];

/**
 * L1: the in-process tier. Synchronous: it sits on the hot path. Implementations: node-cache, test fakes.
 */
export interface LocalCache {
  get(pair: string): PriceSnapshot | undefined;
  set(pair: string, snapshot: PriceSnapshot): void;
}

/**
 * L2: the tier shared by workers and replicas. Implementations: Redis, and a disabled one when REDIS_URL is
 * unset. Methods never throw: an unreachable store answers undefined / 'unavailable' and counts the error,
 * because Redis being down must never turn into a failed price request.
 */
export interface SharedCache {
  getSnapshot(pair: string): Promise<PriceSnapshot | undefined>;
  putSnapshot(snapshot: PriceSnapshot): Promise<void>;
  getSourceResult(source: string, pair: string): Promise<SourceOutcome | undefined>;
  putSourceResult(source: string, pair: string, result: SourceOutcome): Promise<void>;
  /** Cluster-wide single flight: only one caller per source, pair and epoch wins until ttlMs passes. */
  acquireLease(lease: SourceLease, ttlMs: number): Promise<LeaseResult>;
  status(): 'up' | 'down' | 'disabled';
  close(): Promise<void>;
}

/** What a serving process needs of L2: a read on an L1 miss, and its status for readiness. */
export type SharedCacheReads = Pick<SharedCache, 'getSnapshot' | 'status'>;

/**
 * A client's budget after one request; `unavailable` when the store could not be asked (fail open);
 * `overflow` when the in-memory store already holds its maximum of clients in this window and this client is
 * a new one, so it was not counted (and is let through).
 */
export type RateLimitDecision =
  | { readonly kind: 'allowed' | 'limited'; readonly remaining: number; readonly resetMs: number }
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'overflow' };

/**
 * Per-client request budget. Implementations: Redis (one budget across workers and replicas) and memory
 * (per process, when no Redis is configured). Never rejects: a store that fails answers `unavailable`.
 */
export interface ClientRateLimiter {
  consume(client: string): Promise<RateLimitDecision>;
  close(): Promise<void>;
}
