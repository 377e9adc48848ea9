import type { LocalCache, SharedCache } from './ports';
import type { PriceSnapshot } from './price-snapshot';

/** l1: in-process; l2: Redis. A lookup hits, misses, fails, or finds a malformed value it refuses. */
export const CACHE_TIERS = ['l1', 'l2'] as const;
export const CACHE_RESULTS = ['hit', 'miss', 'error', 'rejected'] as const;

export interface CacheCounters {
  cacheLookup(tier: (typeof CACHE_TIERS)[number], result: (typeof CACHE_RESULTS)[number]): void;
}

/**
 * The read path: L1 (in-process) first, then L2 (Redis) on a miss, never an exchange. Snapshots arrive
 * ahead of requests (refresh-ahead) through accept(), from the primary over IPC or from the local refresher.
 */
const L2_ANSWER_HOLD_MS = 100;

export function createPriceReader(deps: {
  l1: LocalCache;
  l2: Pick<SharedCache, 'getSnapshot'>;
  counters: CacheCounters;
}) {
  const { l1, l2, counters } = deps;
  const pendingLoads = new Map<string, Promise<PriceSnapshot | undefined>>();

  /** Keeps the newer of two snapshots: IPC and L2 can deliver out of order. */
  function accept(snapshot: PriceSnapshot): void {
    const held = l1.get(snapshot.pair);
    if (held === undefined || held.updatedAtMs <= snapshot.updatedAtMs) l1.set(snapshot.pair, snapshot);
  }

  /** Hot path: a synchronous L1 read. */
  function current(pair: string): PriceSnapshot | undefined {
    const snapshot = l1.get(pair);
    counters.cacheLookup('l1', snapshot === undefined ? 'miss' : 'hit');
    return snapshot;
  }

  /** L1 miss (a cold worker, a lost IPC message): at most one L2 read per pair per 100 ms, however many requests wait. */
  function load(pair: string): Promise<PriceSnapshot | undefined> {
    let pending = pendingLoads.get(pair);
    if (pending === undefined) {
      pending = l2
        .getSnapshot(pair)
        .then((snapshot) => {
          if (snapshot !== undefined) accept(snapshot);
          return l1.get(pair);
        })
        .finally(() => {
          // The answer is kept for a moment: with L1 and L2 both empty (a cold start), a stream of requests
          // must not become a stream of Redis reads.
          setTimeout(() => pendingLoads.delete(pair), L2_ANSWER_HOLD_MS).unref();
        });
      pendingLoads.set(pair, pending);
    }
    return pending;
  }

  /** L1 read that is not counted as a lookup (health probes). */
  const peek = (pair: string): PriceSnapshot | undefined => l1.get(pair);

  return { accept, current, peek, load };
}

export type PriceReader = ReturnType<typeof createPriceReader>;
