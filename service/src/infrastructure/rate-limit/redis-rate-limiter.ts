import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ClientRateLimiter, RateLimitDecision } from '../../application/ports';
import {
  closeRedisClient,
  createRedisClient,
  type RedisClient,
  type RedisTopology,
} from '../redis/redis-client';

export interface RedisRateLimiterOptions {
  readonly requests: number;
  readonly windowSeconds: number;
  /** One node, Sentinel or Cluster. */
  readonly redis: {
    readonly topology: RedisTopology;
    readonly keyPrefix: string;
    readonly commandTimeoutMs: number;
  };
}

/**
 * rate-limiter-flexible's fixed window in Redis (an atomic Lua increment: one budget for every worker and
 * replica). Fails open: when Redis is down or slow, or its store could not even be loaded, the request is
 * let through (`unavailable`) and the caller counts it.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): ClientRateLimiter {
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
