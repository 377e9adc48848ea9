import { trace } from '@opentelemetry/api';
import { aggregate, type AggregationRules, type SourceOutcome } from '../domain/aggregation';
import { AppError, failureStateOf } from '../domain/errors';
import type { Pair } from '../domain/pair';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { LeaseResult, PriceSource, SharedCache } from './ports';

/** Whether a round met the quorum (a new price) or kept the last good one. */
export const REFRESH_RESULTS = ['published', 'no_quorum'] as const;
import type { PriceSnapshot } from './price-snapshot';

const tracer = trace.getTracer('price-refresher');

export interface RefresherDeps {
  readonly sources: readonly PriceSource[];
  readonly pairs: readonly Pair[];
  readonly shared: SharedCache;
  readonly rules: AggregationRules;
  readonly intervalMs: number;
  /** Delivers every round's snapshot to the readers (IPC broadcast in a cluster, the local reader otherwise). */
  readonly publish: (snapshot: PriceSnapshot) => void;
  readonly metrics: Pick<Metrics, 'aggregationRound' | 'lease' | 'quorumConfig'>;
  readonly logger: Logger;
  readonly clock?: () => number;
}

/**
 * The write path, run by exactly one process per replica (the cluster primary).
 *
 * Rounds are aligned to wall-clock epochs of intervalMs, so every replica sharing a Redis starts the same
 * round at about the same time. For each source and pair, the replica that wins the Redis lease for that
 * epoch fetches from the exchange and writes the result to Redis; the others read it. So each source is
 * fetched at most once per interval across the whole deployment. Without Redis the lease is 'unavailable'
 * and each replica fetches for itself: still once per replica, whatever the worker count.
 *
 * A slow source never holds up a round: the round aggregates whatever results are in after 80% of the
 * interval, and a source still in flight is not asked again until its fetch ends.
 */
export function createPriceRefresher(deps: RefresherDeps) {
  const { sources, pairs, shared, rules, intervalMs, publish, metrics, logger } = deps;
  const clock = deps.clock ?? Date.now;
  const latest = new Map<string, SourceOutcome>();
  const inFlight = new Map<string, Promise<void>>();
  const snapshots = new Map<string, PriceSnapshot>();
  const quorumLost = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  const rounds = new Set<Promise<void>>();
  const publishedRound = new Map<string, number>();
  let roundCount = 0;

  metrics.quorumConfig(rules.minQuorum, sources.length);

  const key = (source: string, pair: Pair) => `${source}|${pair.slug}`;

  async function obtain(source: PriceSource, pair: Pair, epoch: number): Promise<void> {
    let lease: LeaseResult;
    try {
      lease = await shared.acquireLease({ source: source.name, pair: pair.slug, epoch }, intervalMs * 3);
    } catch {
      lease = 'unavailable';
    }
    metrics.lease(source.name, lease);
    if (lease === 'held_elsewhere') {
      const result = await waitForSharedResult(source.name, pair, epoch);
      if (result !== undefined) latest.set(key(source.name, pair), result);
      return;
    }
    const result = await fetchResult(source, pair, epoch);
    latest.set(key(source.name, pair), result);
    if (lease === 'acquired') await shared.putSourceResult(source.name, pair.slug, result);
  }

  async function fetchResult(source: PriceSource, pair: Pair, epoch: number): Promise<SourceOutcome> {
    try {
      return { kind: 'quote', epoch, quote: await source.fetchQuote(pair) };
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'INTERNAL';
      if (!(error instanceof AppError))
        logger.error('unexpected error fetching a quote', { source: source.name, error });
      return { kind: 'failure', epoch, state: failureStateOf(code), errorCode: code };
    }
  }

  /** Another replica holds this epoch's lease: poll Redis for its result until most of the interval is gone. */
  async function waitForSharedResult(source: string, pair: Pair, epoch: number) {
    const deadline = clock() + intervalMs * 0.75;
    for (;;) {
      const result = await shared.getSourceResult(source, pair.slug);
      if (result !== undefined && result.epoch >= epoch) return result;
      if (clock() >= deadline || stopped) return result;
      await sleep(Math.min(25, intervalMs / 20));
    }
  }

  async function round(epoch: number, sequence: number): Promise<void> {
    const started: Promise<void>[] = [];
    for (const pair of pairs) {
      for (const source of sources) {
        const k = key(source.name, pair);
        if (inFlight.has(k)) continue;
        const work = obtain(source, pair, epoch)
          .catch((error: unknown) => {
            logger.error('refresh of a source failed', { source: source.name, error });
          })
          .finally(() => inFlight.delete(k));
        inFlight.set(k, work);
        started.push(work);
      }
    }
    // Every source still in flight from an earlier round: that round will publish what they bring.
    if (started.length === 0) return;
    await Promise.race([Promise.all(started), sleep(intervalMs * 0.8)]);
    for (const pair of pairs) await publishPair(pair, sequence, epoch);
  }

  /**
   * A round that finishes after a later one has published must not roll its snapshot back. Rounds are
   * numbered rather than timed, so a wall clock that steps back does not freeze publishing.
   */
  const superseded = (pair: Pair, sequence: number) => (publishedRound.get(pair.slug) ?? 0) > sequence;

  async function publishPair(pair: Pair, sequence: number, epoch: number): Promise<void> {
    if (superseded(pair, sequence)) return;
    const now = clock();
    const outcomes = new Map<string, SourceOutcome>();
    for (const source of sources) {
      outcomes.set(
        source.name,
        latest.get(key(source.name, pair)) ?? {
          kind: 'failure',
          epoch,
          state: 'error',
          errorCode: 'NO_RESULT_YET',
        },
      );
    }
    const outcome = aggregate(outcomes, now, rules);
    let previous = snapshots.get(pair.slug);
    if (previous === undefined && outcome.price === undefined) previous = await shared.getSnapshot(pair.slug);
    const snapshot: PriceSnapshot = {
      v: 1,
      pair: pair.slug,
      symbol: pair.symbol,
      price:
        outcome.price === undefined
          ? previous?.price
          : {
              price: outcome.price.price,
              bid: outcome.price.bid,
              ask: outcome.price.ask,
              confidence: outcome.price.confidence,
              timestampMs: outcome.price.timestampMs,
            },
      updatedAtMs: now,
      quorum: { used: outcome.used, configured: sources.length, min: rules.minQuorum },
      sources: outcome.sources,
    };
    snapshots.set(pair.slug, snapshot);
    metrics.aggregationRound(pair.slug, outcome.price !== undefined, outcome.used, outcome.sources);
    // Log transitions, not every round: a lost quorum would otherwise write a line per interval.
    if (outcome.price === undefined && !quorumLost.has(pair.slug)) {
      quorumLost.add(pair.slug);
      logger.warn('no quorum: keeping the last good price', {
        pair: pair.slug,
        used: outcome.used,
        min: rules.minQuorum,
        sources: Object.fromEntries(outcome.sources.map((s) => [s.exchange, s.error ?? s.state])),
      });
    } else if (outcome.price !== undefined && quorumLost.delete(pair.slug)) {
      logger.info('quorum regained: publishing fresh prices again', { pair: pair.slug, used: outcome.used });
    }
    if (superseded(pair, sequence)) return;
    publishedRound.set(pair.slug, sequence);
    publish(snapshot);
    await shared.putSnapshot(snapshot);
  }

  let lastEpoch = -1;

  /**
   * Rounds may overlap (one still waiting on a slow source or a slow Redis when the next epoch starts): the
   * per-source in-flight guard keeps each source to one fetch at a time, and superseded() keeps snapshots
   * in the order their rounds started; a round that could start no fetch publishes nothing.
   */
  function runRound(epoch: number): Promise<void> {
    lastEpoch = epoch;
    const sequence = ++roundCount;
    const work = tracer
      .startActiveSpan('price.refresh', async (span) => {
        span.setAttribute('price.epoch', epoch);
        try {
          await round(epoch, sequence);
        } finally {
          span.end();
        }
      })
      .catch((error: unknown) => {
        logger.error('refresh round failed', { error });
      })
      .finally(() => rounds.delete(work));
    rounds.add(work);
    return work;
  }

  /**
   * Timers run on a monotonic clock and the epoch on the wall clock, so a timer can fire a hair before the
   * boundary it was set for. The target epoch is therefore decided when the timer is set, not when it fires;
   * a timer that fires more than an interval late moves on to the current epoch, and a wall clock that
   * stepped back (NTP, a resumed VM) restarts the count from the current epoch.
   */
  function schedule(): void {
    if (stopped) return;
    let target = lastEpoch + 1;
    // Normal timer jitter is well under an interval; a wait of more than two means the clock went back.
    if (target * intervalMs - clock() > 2 * intervalMs) target = Math.floor(clock() / intervalMs) + 1;
    timer = setTimeout(
      () => {
        if (stopped) return;
        void runRound(Math.max(target, Math.floor(clock() / intervalMs)));
        schedule();
      },
      Math.max(0, target * intervalMs - clock()),
    );
  }

  return {
    /** Runs a first round right away (so a fresh replica is ready fast), then one per epoch. */
    async start(): Promise<void> {
      if (!stopped) return;
      stopped = false;
      const first = runRound(Math.floor(clock() / intervalMs));
      schedule();
      await first;
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.allSettled([...rounds, ...inFlight.values()]);
    },
    snapshot(pair: string): PriceSnapshot | undefined {
      return snapshots.get(pair);
    },
  };
}

export type PriceRefresher = ReturnType<typeof createPriceRefresher>;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
