import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ClientRateLimiter, RateLimitDecision } from '../../application/ports';
import { createRedisClient, type RedisClient, type RedisTopology } from '../redis/redis-client';

export interface ClientRateLimiterOptions {
  readonly requests: number;
  readonly windowSeconds: number;
  /**
   * Without Redis, each process keeps its own counts. Redis by topology (one node, Sentinel, Cluster), or by
   * the single-node URL alone.
   */
  readonly redis?: { readonly keyPrefix: string; readonly commandTimeoutMs: number } & (
    | { readonly topology: RedisTopology; readonly url?: undefined }
    | { readonly url: string; readonly topology?: undefined }
  );
}

/**
 * rate-limiter-flexible's fixed window, in Redis (an atomic Lua increment: one budget for every worker and
 * replica) or in memory. Fails open: when Redis is down or slow the request is let through and the caller
 * counts it, because an unreachable limiter must never turn into failed price requests.
 */
export function createClientRateLimiter(options: ClientRateLimiterOptions): ClientRateLimiter {
  // Failures surface as `unavailable` decisions (and their metric). Each key is one client's counter (one
  // key per script call), so in a Cluster the counters spread over the shards: no hash tag wanted here.
  const client: RedisClient | undefined =
    options.redis === undefined
      ? undefined
      : createRedisClient({
          topology: options.redis.topology ?? { kind: 'single', url: options.redis.url },
          commandTimeoutMs: options.redis.commandTimeoutMs,
        });
  // Loaded only when the limiter is on: the package loads every store it supports, ~10 MB of RSS per worker
  // that a service with the limiter off (the default) would carry for nothing.
  const loaded = import('rate-limiter-flexible').then((flexible) => {
    const limiter: RateLimiterAbstract =
      client === undefined
        ? new flexible.RateLimiterMemory({ points: options.requests, duration: options.windowSeconds })
        : new flexible.RateLimiterRedis({
            storeClient: client,
            keyPrefix: `${options.redis?.keyPrefix}ratelimit`,
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

  return {
    async consume(key): Promise<RateLimitDecision> {
      const { limiter, Refusal } = await loaded;
      try {
        const res = await limiter.consume(key);
        return { kind: 'allowed', remaining: res.remainingPoints, resetMs: res.msBeforeNext };
      } catch (outcome) {
        if (outcome instanceof Refusal)
          return { kind: 'limited', remaining: 0, resetMs: outcome.msBeforeNext };
        return { kind: 'unavailable' };
      }
    },
    async close() {
      if (client === undefined) return;
      await client.quit().catch(() => client?.disconnect());
    },
  };
}
