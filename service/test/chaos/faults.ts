/**
 * The faults of the chaos suite, each injected alone under steady load, held, then cleared. What a fault is
 * expected to do to users decides which targets its row is held to (suite.ts evaluate()):
 * - `absorb`: 0 failed requests, 0 wrong prices (Redis loss or slowness, a worker crash, slow, garbage,
 *   erroring, outlying or rate-limited sources, clock skew, a rolling restart);
 * - `outage`: 200s flagged stale up to MAX_STALENESS, then 503 with Retry-After, never another status, no
 *   wrong price, and recovery without a restart.
 */
import type { ExchangeName, MockExchangeClient } from '../../../mock-exchange/src/mock-exchange';
import { HISTORY_REDIS_OUTAGE } from './history-outage';
import type { ChaosRedis, Replica } from './stack';
import { sleep } from './stack';

export interface FaultContext {
  readonly redis: ChaosRedis;
  readonly mock: MockExchangeClient;
  readonly replicas: readonly Replica[];
  readonly intervalMs: number;
  readonly upstreamTimeoutMs: number;
  /** How long a fault is held (the outage has its own). */
  readonly holdMs: number;
  readonly outageMs: number;
  /** Marks the moment the fault is cleared (recovery is measured from here). */
  cleared(): void;
  note(text: string): void;
}

export interface Fault {
  readonly id: string;
  readonly title: string;
  readonly expect: 'absorb' | 'outage';
  /** Alerts whose expression must turn true (pending or firing) during the fault, when Prometheus runs. */
  readonly alerts?: readonly string[];
  /** Why it cannot run here, if it cannot. */
  readonly notRun?: string;
  inject(ctx: FaultContext): Promise<void>;
  /**
   * Checks run once both replicas are fresh again, over the time the fault was held (from the injection
   * to its clearing); each string returned is a missed target. Polls until the timeout if it must wait.
   */
  verify?(ctx: FaultContext, held: { fromMs: number; toMs: number; timeoutMs: number }): Promise<string[]>;
}

async function sourceFault(
  ctx: FaultContext,
  exchanges: readonly ExchangeName[],
  fault: Parameters<MockExchangeClient['setFault']>[1],
): Promise<void> {
  for (const exchange of exchanges) await ctx.mock.setFault(exchange, fault);
  await sleep(ctx.holdMs);
  for (const exchange of exchanges) await ctx.mock.clearFault(exchange);
  ctx.cleared();
}

export const FAULTS: readonly Fault[] = [
  {
    id: 'redis-kill',
    title: 'Redis killed, restarted',
    expect: 'absorb',
    alerts: ['RedisUnreachable'],
    async inject(ctx) {
      await ctx.redis.kill();
      await sleep(ctx.holdMs);
      await ctx.redis.start();
      ctx.cleared();
    },
  },
  HISTORY_REDIS_OUTAGE,
  {
    id: 'redis-slow',
    title: 'Redis paused (SIGSTOP) > cmd timeout',
    expect: 'absorb',
    async inject(ctx) {
      ctx.redis.pause();
      await sleep(ctx.holdMs);
      ctx.redis.resume();
      ctx.cleared();
    },
  },
  {
    id: 'sources-slow',
    title: '2 sources slower than per-try timeout',
    expect: 'absorb',
    inject: (ctx) =>
      sourceFault(ctx, ['okx', 'kraken'], { type: 'latency', ms: ctx.upstreamTimeoutMs + 400 }),
  },
  {
    id: 'garbage',
    title: '2 sources answer garbage bodies',
    expect: 'absorb',
    inject: (ctx) => sourceFault(ctx, ['binance', 'coinbase'], { type: 'garbage' }),
  },
  {
    id: 'body-error',
    title: '2 sources: error bodies with HTTP 200',
    expect: 'absorb',
    inject: (ctx) => sourceFault(ctx, ['okx', 'kraken'], { type: 'body-error' }),
  },
  {
    id: 'outlier',
    title: '1 source spiked x1.10 (outlier)',
    expect: 'absorb',
    inject: (ctx) => sourceFault(ctx, ['kucoin'], { type: 'spike', factor: '1.10' }),
  },
  {
    id: 'rate-limit',
    title: '429 storm, Retry-After 3s, 3 sources',
    expect: 'absorb',
    inject: (ctx) =>
      sourceFault(ctx, ['binance', 'okx', 'coinbase'], {
        type: 'rate-limit',
        status: 429,
        retryAfterSeconds: 3,
      }),
  },
  {
    id: 'ban',
    title: '418 IP ban on binance (no Retry-After)',
    expect: 'absorb',
    inject: (ctx) => sourceFault(ctx, ['binance'], { type: 'rate-limit', status: 418 }),
  },
  {
    id: 'worker-kill',
    title: 'a worker SIGKILLed (replica a)',
    expect: 'absorb',
    async inject(ctx) {
      const replica = ctx.replicas[0] as Replica;
      const pids = replica.workerPids();
      if (pids.length === 0) throw new Error(`${replica.name} has no workers to kill`);
      process.kill(pids[0] as number, 'SIGKILL');
      ctx.note(`killed worker ${pids[0]} of ${replica.name}`);
      ctx.cleared();
      await sleep(ctx.holdMs);
    },
  },
  {
    id: 'skew-half',
    title: 'clock skew: replica b +0.5 interval',
    expect: 'absorb',
    async inject(ctx) {
      const replica = ctx.replicas[1] as Replica;
      replica.setSkew(Math.round(ctx.intervalMs * 0.5));
      await sleep(ctx.holdMs);
      replica.setSkew(0);
      ctx.cleared();
    },
  },
  {
    id: 'skew-over',
    title: 'clock skew: replica b +1.5 intervals',
    expect: 'absorb',
    async inject(ctx) {
      const replica = ctx.replicas[1] as Replica;
      replica.setSkew(Math.round(ctx.intervalMs * 1.5));
      await sleep(ctx.holdMs);
      replica.setSkew(0);
      ctx.cleared();
    },
  },
  {
    // Leases live 3 intervals (price-refresher.ts): past that, each replica wins its own lease per epoch.
    id: 'skew-beyond-lease',
    title: 'clock skew: replica b +3.5 intervals',
    expect: 'absorb',
    async inject(ctx) {
      const replica = ctx.replicas[1] as Replica;
      replica.setSkew(Math.round(ctx.intervalMs * 3.5));
      await sleep(ctx.holdMs);
      replica.setSkew(0);
      ctx.cleared();
    },
  },
  {
    id: 'rolling-restart',
    title: 'primary SIGTERMed, restarted (replica a)',
    expect: 'absorb',
    async inject(ctx) {
      const replica = ctx.replicas[0] as Replica;
      const started = Date.now();
      const code = await replica.stop();
      const stoppedAt = Date.now();
      if (code !== 0) throw new Error(`${replica.name} exited ${code} on SIGTERM (see ${replica.log})`);
      await replica.start();
      ctx.note(
        `${replica.name}: drained and exited 0 in ${stoppedAt - started} ms, ready again ${Date.now() - stoppedAt} ms later`,
      );
      ctx.cleared();
      await sleep(Math.min(ctx.holdMs, 3000));
    },
  },
  {
    id: 'total-outage',
    title: 'every source failing (TCP reset)',
    expect: 'outage',
    alerts: ['PriceQuorumLost', 'PriceServedStale', 'PriceAvailabilityBudgetBurn'],
    async inject(ctx) {
      await ctx.mock.setFault('*', { type: 'outage' });
      await sleep(ctx.outageMs);
      await ctx.mock.clearFault('*');
      ctx.cleared();
    },
  },
];

/** For showing that the targets can fail: a fault the service cannot absorb, held to the absorb targets. */
export const UNABSORBABLE: Fault = {
  id: 'all-garbage-as-absorb',
  title: 'every source garbage (must fail)',
  expect: 'absorb',
  async inject(ctx) {
    await ctx.mock.setFault('*', { type: 'garbage' });
    await sleep(ctx.outageMs);
    await ctx.mock.clearFault('*');
    ctx.cleared();
  },
};

/**
 * For showing that the band check catches a wrong price the service really serves: four of six sources
 * spiked alike outvote the honest two, so the median follows them out of the band.
 */
export const MAJORITY_SPIKE: Fault = {
  id: 'majority-spike',
  title: '4 of 6 sources spiked x1.02 (must fail)',
  expect: 'absorb',
  inject: (ctx) =>
    sourceFault(ctx, ['binance', 'okx', 'coinbase', 'kraken'], { type: 'spike', factor: '1.02' }),
};
