import { alignDown } from '../domain/history/intervals';
import type { HistoryPoint } from '../domain/history/price-point';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { PriceFeed } from './price-feed';
import type { AppendResult, PriceHistory } from './price-history';
import { statusAt, type FreshnessRules, type PriceSnapshot } from './price-snapshot';

export interface HistoryRecorderDeps {
  readonly history: PriceHistory;
  readonly feed: Pick<PriceFeed, 'follow'>;
  readonly freshness: FreshnessRules;
  /** Points are timed at their refresh round's epoch start, so replicas publishing a round name it alike. */
  readonly refreshIntervalMs: number;
  /** Points held while the store is unreachable; past it the oldest are dropped (and counted). */
  readonly maxPending: number;
  readonly metrics: Pick<
    Metrics,
    | 'historyWritten'
    | 'historyWriteFailed'
    | 'historyDropped'
    | 'historyPending'
    | 'historyWriteLag'
    | 'historyOldest'
  >;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Wait before retrying after a failed write: backs off from 250 ms to 5 s. */
  readonly retryDelayMs?: (failures: number) => number;
}

interface Pending {
  readonly pair: string;
  readonly point: HistoryPoint;
  readonly publishedAtMs: number;
}

const OLDEST_REFRESH_MS = 10_000;

/** The point a snapshot makes, and what makes it news: its price data and its status when published. */
function pointOf(snapshot: PriceSnapshot, freshness: FreshnessRules, intervalMs: number) {
  const status = statusAt(snapshot, snapshot.updatedAtMs, freshness);
  const t = alignDown(snapshot.updatedAtMs, intervalMs);
  const price = snapshot.price;
  if (status === 'unavailable' || price === undefined) {
    return { key: 'unavailable', point: { t, status: 'unavailable' } satisfies HistoryPoint };
  }
  const point: HistoryPoint = {
    t,
    price: price.price,
    status,
    sources: snapshot.sources.map((s) => ({
      exchange: s.exchange,
      state: s.state,
      ...(s.price === undefined ? {} : { mid: s.price }),
    })),
  };
  return { key: `${status}|${price.price}|${price.timestampMs}`, point };
}

/**
 * Follows the price feed and appends one point per published snapshot whose price data or status changed
 * (a republished round adds nothing). Never on the request path and never in the refresh's way: `follow`
 * only queues; one loop writes the queue in order, one point at a time, and on a failure keeps the point,
 * counts the failure, logs once per outage and retries with backoff. So points published while the store
 * is down are written, in order, when it returns, up to maxPending of them.
 */
export function createHistoryRecorder(deps: HistoryRecorderDeps) {
  const { history, freshness, refreshIntervalMs, maxPending, metrics, logger } = deps;
  const clock = deps.clock ?? Date.now;
  const retryDelayMs =
    deps.retryDelayMs ?? ((failures: number) => Math.min(250 * 2 ** (failures - 1), 5_000));
  const queue: Pending[] = [];
  const lastKey = new Map<string, string>();
  const lastT = new Map<string, number>();
  const oldestCheckedAt = new Map<string, number>();
  let writing = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  function onSnapshot(snapshot: PriceSnapshot): void {
    const { key, point } = pointOf(snapshot, freshness, refreshIntervalMs);
    const pair = snapshot.pair;
    // Nothing to end before the first price; the same data again is a republished round.
    if (lastKey.get(pair) === key || (key === 'unavailable' && !lastKey.has(pair))) return;
    // One point per round's epoch: a second snapshot in the same epoch is that round republished.
    if (point.t <= (lastT.get(pair) ?? -Infinity)) return;
    lastKey.set(pair, key);
    lastT.set(pair, point.t);
    if (queue.length >= maxPending) {
      const dropped = queue.shift()!;
      metrics.historyDropped(dropped.pair);
    }
    queue.push({ pair, point, publishedAtMs: snapshot.updatedAtMs });
    metrics.historyPending(queue.length);
    if (!writing && retryTimer === undefined) void writeAll();
  }

  async function writeAll(): Promise<void> {
    writing = true;
    while (queue.length > 0 && !stopped) {
      const next = queue[0]!;
      let result: AppendResult;
      try {
        result = await history.append(next.pair, next.point);
      } catch (error) {
        failures++;
        metrics.historyWriteFailed(next.pair);
        if (failures === 1) {
          logger.warn('price history write failed; holding points until the store is back', {
            pair: next.pair,
            error: (error as Error).message,
          });
        }
        writing = false;
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          void writeAll();
        }, retryDelayMs(failures));
        retryTimer.unref();
        return;
      }
      // A duplicate was stored by another replica: written all the same, as far as this one is concerned.
      queue.shift();
      if (failures > 0) {
        logger.info('price history writes resumed', { failedAttempts: failures, pending: queue.length });
        failures = 0;
      }
      metrics.historyWritten(next.pair, result);
      metrics.historyPending(queue.length);
      metrics.historyWriteLag(Math.max(0, clock() - next.publishedAtMs) / 1000);
      await refreshOldest(next.pair);
    }
    writing = false;
    if (queue.length === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  async function refreshOldest(pair: string): Promise<void> {
    const now = clock();
    if (now - (oldestCheckedAt.get(pair) ?? -Infinity) < OLDEST_REFRESH_MS) return;
    oldestCheckedAt.set(pair, now);
    try {
      const oldest = await history.oldest(pair);
      if (oldest !== undefined) metrics.historyOldest(pair, oldest / 1000);
    } catch {
      // The next write tries again; a failing store is already counted by the writes.
    }
  }

  const unfollow = deps.feed.follow(onSnapshot);
  return {
    /** Points not yet written. */
    pending: () => queue.length,
    /** Resolves once every queued point is written (at once when none is queued). */
    idle(): Promise<void> {
      if (queue.length === 0 && !writing) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    /** Stops following the feed and retrying; what is still queued is reported by `pending`. */
    stop(): void {
      stopped = true;
      unfollow();
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
    },
  };
}

export type HistoryRecorder = ReturnType<typeof createHistoryRecorder>;
