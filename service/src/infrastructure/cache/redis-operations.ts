// Its own module: the metrics' vocabulary reads it in every process, and redis-cache.ts would load the Redis
// client (and the snapshot schemas) into cluster workers, which hold no Redis connection.

/** The Redis commands the cache runs: the Redis errors metric's operations. */
export const REDIS_OPERATIONS = [
  'get_snapshot',
  'put_snapshot',
  'get_source_result',
  'put_source_result',
  'acquire_lease',
] as const;
export type RedisOperation = (typeof REDIS_OPERATIONS)[number];
