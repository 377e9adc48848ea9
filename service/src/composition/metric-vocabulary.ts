import { LEASE_RESULTS } from '../application/ports';
import { APPEND_RESULTS } from '../application/price-history';
import { CACHE_RESULTS, CACHE_TIERS } from '../application/price-reader';
import { REFRESH_RESULTS } from '../application/price-refresher';
import type { Config } from '../config';
import { SOURCE_REJECTIONS } from '../domain/aggregation';
import { REDIS_OPERATIONS } from '../infrastructure/cache/redis-operations';
import { UPSTREAM_OUTCOMES } from '../infrastructure/sources/upstream-outcomes';
import type { Vocabulary } from '../observability/metric-spec';
import { PRICE_RESPONSES } from '../presentation/price-route';
import { STREAM_DROP_REASONS, STREAM_EVENT_TYPES } from '../presentation/price-stream';
import { RATE_LIMIT_RESULTS } from '../presentation/rate-limit';
import { REJECT_REASONS } from '../presentation/request-guard';

/**
 * The metrics' label values known at start, gathered from the concepts they describe (observability
 * cannot import those layers). A new outcome added to its concept's list is exported at 0 from then on.
 */
export function metricVocabulary(config: Config): Vocabulary {
  return {
    pairs: config.pairs.map((p) => p.slug),
    sources: config.sources.map((s) => s.name),
    upstreamOutcomes: UPSTREAM_OUTCOMES,
    sourceRejections: SOURCE_REJECTIONS,
    priceResponses: PRICE_RESPONSES,
    refreshResults: REFRESH_RESULTS,
    leaseResults: LEASE_RESULTS,
    // Without Redis there are no Redis commands to fail: no series rather than false zeros.
    redisOperations: config.redis.topology === undefined ? [] : REDIS_OPERATIONS,
    rejectReasons: REJECT_REASONS,
    rateLimitResults: RATE_LIMIT_RESULTS,
    streamDropReasons: STREAM_DROP_REASONS,
    streamEventTypes: STREAM_EVENT_TYPES,
    cacheTiers: CACHE_TIERS,
    cacheResults: CACHE_RESULTS,
    historyAppendResults: APPEND_RESULTS,
  };
}
