import type { ClientRateLimiter } from '../../application/ports';
import type { RedisRateLimiterOptions } from './redis-rate-limiter';

/** Clients one process counts per window without Redis: ~100 B each, ~10 MB at most per worker. */
export const DEFAULT_MAX_KEYS = 100_000;

export interface ClientRateLimiterOptions {
  readonly requests: number;
  readonly windowSeconds: number;
  /** In-memory store only: distinct clients held per window (DEFAULT_MAX_KEYS). */
  readonly maxKeys?: number;
  /** In-memory store only: the clock windows are aligned to (tests). */
  readonly clock?: () => number;
  /** Without Redis, each process keeps its own counts. Redis by topology: one node, Sentinel or Cluster. */
  readonly redis?: RedisRateLimiterOptions['redis'];
}

/**
 * A fixed window in memory, bounded: one Map of client → count for the current window, replaced by an
 * empty one at the first request past the window's end (windows are aligned to the clock, so every client's
 * window ends at the same instant). No timer and no record per client: a key costs its string and a Map slot.
 * Past `maxKeys` distinct clients in one window a new client is not counted but let through (`overflow`):
 * refusing it instead would let anyone holding many addresses lock every new client out until the window
 * ends, while letting it through costs what an attacker with that many addresses already gets (a budget
 * per address). Clients already counted keep their counts.
 */
function createMemoryWindow(options: ClientRateLimiterOptions): ClientRateLimiter {
  const windowMs = options.windowSeconds * 1000;
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  const clock = options.clock ?? Date.now;
  const points = options.requests;
  let counts = new Map<string, number>();
  let windowEnd = 0;
  return {
    consume(key) {
      const now = clock();
      if (now >= windowEnd) {
        counts = new Map();
        windowEnd = now - (now % windowMs) + windowMs;
      }
      const resetMs = windowEnd - now;
      const used = counts.get(key);
      if (used === undefined) {
        if (counts.size >= maxKeys) return Promise.resolve({ kind: 'overflow' });
        counts.set(key, 1);
        return Promise.resolve({ kind: 'allowed', remaining: points - 1, resetMs });
      }
      if (used >= points) return Promise.resolve({ kind: 'limited', remaining: 0, resetMs });
      counts.set(key, used + 1);
      return Promise.resolve({ kind: 'allowed', remaining: points - used - 1, resetMs });
    },
    close() {
      counts = new Map();
      return Promise.resolve();
    },
  };
}

/**
 * In memory (createMemoryWindow, per process) or in Redis (redis-rate-limiter.ts: one budget for every worker
 * and replica). Fails open: when Redis is down or slow, or its store could not even be loaded, the request is
 * let through and the caller counts it, because an unreachable limiter must never turn into failed price
 * requests.
 */
export function createClientRateLimiter(options: ClientRateLimiterOptions): ClientRateLimiter {
  const redis = options.redis;
  if (redis === undefined) return createMemoryWindow(options);
  // Required here, not imported: only a process whose limiter counts in Redis loads the Redis client. A
  // cluster worker otherwise holds no Redis connection and no ioredis (docs/performance-accounting.md).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require('./redis-rate-limiter') as typeof import('./redis-rate-limiter.js');
  return loaded.createRedisRateLimiter({ ...options, redis });
}
