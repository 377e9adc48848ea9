import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { LeaseResult, SharedCache } from '../../application/ports';
import type { SourceOutcome } from '../../domain/aggregation';
import type { PriceSnapshot } from '../../application/price-snapshot';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import {
  closeRedisClient,
  createRedisClient,
  describeTopology,
  pairTag,
  type RedisTopology,
} from '../redis/redis-client';
import type { RedisOperation } from './redis-operations';
import { parseSnapshot, parseSourceResult } from './snapshot-schema';

const tracer = trace.getTracer('redis-cache');

export interface RedisCacheOptions {
  /** One node, Sentinel or Cluster. */
  readonly topology: RedisTopology;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  /** Stored snapshots expire when nothing could be served from them any more. */
  readonly snapshotTtlMs: number;
  /** Stored source results expire when their quote would be rejected as stale anyway. */
  readonly sourceResultTtlMs: number;
}

/**
 * L2: Redis shared by all workers and replicas. Fails soft: with Redis down, slow or returning garbage the
 * methods answer "nothing" quickly (no offline queue, a command timeout) and count the error, and ioredis
 * keeps reconnecting in the background so Redis is used again as soon as it is back, without a restart.
 */
export function createRedisCache(
  options: RedisCacheOptions,
  deps: { metrics: Pick<Metrics, 'cacheLookup' | 'redisError' | 'redisConnection'>; logger: Logger },
): SharedCache {
  const { metrics, logger } = deps;
  const client = createRedisClient({
    topology: options.topology,
    commandTimeoutMs: options.commandTimeoutMs,
  });
  let wasReady = false;
  let closing = false;
  client.on('ready', () => {
    metrics.redisConnection(true);
    if (!wasReady) logger.info('redis connected', { redis: describeTopology(options.topology) });
    wasReady = true;
  });
  client.on('end', () => metrics.redisConnection(false));
  client.on('close', () => {
    metrics.redisConnection(false);
    if (wasReady && !closing)
      logger.warn('redis connection lost; serving from L1 and upstream until it is back');
    wasReady = false;
  });
  // ioredis emits 'error' on every failed reconnect (the factory listens); the metric and the close/ready
  // lines say enough.
  metrics.redisConnection(false);

  // Every key of a pair carries the pair's hash tag, so in a Cluster they live in one slot (a multi-key
  // command or script over one pair stays legal) while pairs spread over the shards.
  const k = {
    snapshot: (pair: string) => `${options.keyPrefix}${pairTag(pair)}:snapshot`,
    source: (source: string, pair: string) => `${options.keyPrefix}${pairTag(pair)}:source:${source}`,
    lease: (source: string, pair: string, epoch: number) =>
      `${options.keyPrefix}${pairTag(pair)}:lease:${source}:${epoch}`,
  };

  async function attempt<T>(operation: RedisOperation, fn: () => Promise<T>): Promise<T | undefined> {
    if (client.status !== 'ready') {
      metrics.redisError(operation);
      return undefined;
    }
    try {
      return await fn();
    } catch (error) {
      metrics.redisError(operation);
      logger.debug('redis command failed', { operation, error: (error as Error).message });
      return undefined;
    }
  }

  return {
    getSnapshot(pair) {
      return tracer.startActiveSpan('cache.l2.get', async (span) => {
        span.setAttribute('price.pair', pair);
        if (client.status !== 'ready') {
          metrics.redisError('get_snapshot');
          metrics.cacheLookup('l2', 'error');
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'redis not ready' });
          span.end();
          return undefined;
        }
        try {
          const text = await client.get(k.snapshot(pair));
          if (text === null) {
            metrics.cacheLookup('l2', 'miss');
            return undefined;
          }
          const snapshot = parseSnapshot(text);
          if (snapshot === undefined || snapshot.pair !== pair) {
            metrics.cacheLookup('l2', 'rejected');
            logger.warn('rejected a malformed price snapshot from redis', { pair });
            return undefined;
          }
          metrics.cacheLookup('l2', 'hit');
          return snapshot;
        } catch (error) {
          metrics.redisError('get_snapshot');
          metrics.cacheLookup('l2', 'error');
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          return undefined;
        } finally {
          span.end();
        }
      });
    },

    async putSnapshot(snapshot: PriceSnapshot) {
      await attempt('put_snapshot', () =>
        client.set(k.snapshot(snapshot.pair), JSON.stringify(snapshot), 'PX', options.snapshotTtlMs),
      );
    },

    async getSourceResult(source, pair) {
      const text = await attempt('get_source_result', () => client.get(k.source(source, pair)));
      if (text === undefined || text === null) return undefined;
      const result = parseSourceResult(text);
      if (
        result === undefined ||
        (result.kind === 'quote' && (result.quote.exchange !== source || result.quote.pair !== pair))
      ) {
        metrics.cacheLookup('l2', 'rejected');
        logger.warn('rejected a malformed source result from redis', { source, pair });
        return undefined;
      }
      return result;
    },

    async putSourceResult(source, pair, result: SourceOutcome) {
      await attempt('put_source_result', () =>
        client.set(k.source(source, pair), JSON.stringify(result), 'PX', options.sourceResultTtlMs),
      );
    },

    async acquireLease({ source, pair, epoch }, ttlMs): Promise<LeaseResult> {
      const answer = await attempt('acquire_lease', () =>
        client.set(k.lease(source, pair, epoch), String(process.pid), 'PX', ttlMs, 'NX'),
      );
      if (answer === undefined) return 'unavailable';
      return answer === 'OK' ? 'acquired' : 'held_elsewhere';
    },

    status() {
      return client.status === 'ready' ? 'up' : 'down';
    },

    async close() {
      closing = true;
      await closeRedisClient(client);
    },
  };
}
