import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ClientRateLimiter, RateLimitDecision } from '../../application/ports';
import {
  closeRedisClient,
  createRedisClient,
  type RedisClient,
  type RedisTopology,
} from '../redis/redis-client';

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
  readonly redis?: {
    readonly topology: RedisTopology;
    readonly keyPrefix: string;
    readonly commandTimeoutMs: number;
  };
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
 * In memory (createMemoryWindow, per process) or rate-limiter-flexible's fixed window in Redis (an atomic
 * Lua increment: one budget for every worker and replica). Fails open: when Redis is down or slow, or its
 * store could not even be loaded, the request is let through and the caller counts it, because an
 * unreachable limiter must never turn into failed price requests.
 */
export function createClientRateLimiter(options: ClientRateLimiterOptions): ClientRateLimiter {
  if (options.redis === undefined) return createMemoryWindow(options);
  const redis = options.redis;
  // Failures surface as `unavailable` decisions (and their metric). Each key is one client's counter (one
  // key per script call), so in a Cluster the counters spread over the shards: no hash tag wanted here.
  const client: RedisClient = createRedisClient({
    topology: redis.topology,
    commandTimeoutMs: redis.commandTimeoutMs,
  });
  // Loaded only when the limiter is on with Redis: the package loads every store it supports, ~10 MB of RSS
  // per worker that a service with the limiter off (the default) would carry for nothing.
  const loaded = import('rate-limiter-flexible').then((flexible) => {
    const limiter: RateLimiterAbstract = new flexible.RateLimiterRedis({
      storeClient: client,
      keyPrefix: `${redis.keyPrefix}ratelimit`,
      points: options.requests,
      duration: options.windowSeconds,
      // Not connected: answer at once instead of waiting for a command timeout on every request.
      rejectIfRedisNotReady: true,
      // A client over its budget is refused from memory for the rest of the window, without asking
      // Redis: an abusive client costs no Redis round trips.
      inMemoryBlockOnConsumed: options.requests + 1,
    });
    return { limiter, Refusal: flexible.RateLimiterRes };
  });
  // A failed load is answered by consume (`unavailable`, every request); this handler only keeps it from
  // being an unhandled rejection before the first request, which would take the worker down.
  loaded.catch(() => undefined);

  return {
    async consume(key): Promise<RateLimitDecision> {
      try {
        const { limiter, Refusal } = await loaded;
        try {
          const res = await limiter.consume(key);
          return { kind: 'allowed', remaining: res.remainingPoints, resetMs: res.msBeforeNext };
        } catch (outcome) {
          if (outcome instanceof Refusal)
            return { kind: 'limited', remaining: 0, resetMs: outcome.msBeforeNext };
          return { kind: 'unavailable' };
        }
      } catch {
        return { kind: 'unavailable' };
      }
    },
    async close() {
      await closeRedisClient(client);
    },
  };
}
