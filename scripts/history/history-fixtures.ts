import { Redis } from 'ioredis';
import type { PriceHistory } from '../../service/src/application/price-history';
import type { HistoryPoint, InEffectRules } from '../../service/src/domain/history/price-point';
import type { HistoryRetention } from '../../service/src/infrastructure/history/memory-history';
import { createRedisHistory } from '../../service/src/infrastructure/history/redis-history';
import { startRedis } from '../../service/test/helpers/redis';

/** What the measuring scripts share: a Redis store of their own, and the points they fill stores with. */

/**
 * A Redis history store on a redis-server of its own (free loopback port) for the measuring scripts, with
 * a plain client to look at its keys; everything is stopped when `use` settles.
 */
export async function withRedisHistory<T>(
  keyPrefix: string,
  settings: { retention: HistoryRetention; rules: InEffectRules },
  use: (history: PriceHistory, admin: Redis) => Promise<T>,
): Promise<T> {
  const redis = await startRedis();
  const admin = new Redis(redis.url);
  const history = createRedisHistory({
    topology: { kind: 'single', url: redis.url },
    keyPrefix,
    commandTimeoutMs: 5_000,
    ...settings,
  });
  try {
    // ioredis connects in the background and the store has no offline queue
    await new Promise((resolve) => setTimeout(resolve, 200));
    return await use(history, admin);
  } finally {
    await history.close();
    admin.disconnect();
    await redis.stop();
  }
}

const EXCHANGES = ['binance', 'coinbase', 'kraken', 'okx', 'bybit', 'kucoin'];

/**
 * The i-th point of a realistic history, one a second from `startMs`: six sources with their mids, the
 * price moving by cents; distinct strings per point, as parsed from JSON they would be.
 */
export function samplePoint(startMs: number, i: number): HistoryPoint {
  const cents = 352_143 + ((i * 7919) % 400) - 200;
  const mid = (offset: number) => ((cents + offset) / 100).toFixed(2);
  return {
    t: startMs + i * 1_000,
    price: mid(0),
    status: 'ok',
    sources: EXCHANGES.map((exchange, k) => ({ exchange, state: 'used', mid: mid(k - 3) })),
  };
}
