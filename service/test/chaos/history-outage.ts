/**
 * The chaos suite's price history case: Redis killed mid-run under load, restarted after the hold, and the
 * history read back through the API over the outage. Both replicas' primaries publish a point every round;
 * while Redis is down each holds its points (up to HISTORY_PENDING_MAX_POINTS) and writes them in order
 * when it is back, so every second of the outage must have its points: one-second candles, every one
 * final, none a gap and no run of empty seconds.
 *
 * The Redis that comes back is a fresh, empty one (stack.ts: no persistence), so what was stored before the
 * kill is gone by design; the check starts at the first whole second after the kill (every round in it was
 * published after the kill, so held). A round published late enough to share the next round's epoch is
 * one point, not two: at 1 s rounds that can leave a second empty, so one empty second is tolerated there,
 * never two in a row.
 */
import type { Fault, FaultContext } from './faults';
import { sleep } from './stack';

const PAIR = 'eth-usdt';
const SECOND = 1000;

interface CandleView {
  readonly start: string;
  readonly points: number;
  readonly gap: boolean;
  readonly final: boolean;
}

/** What is wrong with the history of one replica over [fromMs, toMs); [] when nothing is. */
export function historyGaps(candles: readonly CandleView[], intervalMs: number): string[] {
  const problems: string[] = [];
  const open = candles.filter((c) => !c.final).length;
  if (open > 0) problems.push(`${open} candle(s) not final yet (held points not all written)`);
  const gaps = candles.filter((c) => c.gap).map((c) => c.start);
  if (gaps.length > 0) problems.push(`no price in effect in ${gaps.length} second(s): ${gaps.join(', ')}`);
  // At most one empty second in a row at 1 s rounds; none at faster rounds (several points a second).
  const allowedEmptyRun = intervalMs >= SECOND ? 1 : 0;
  let run: CandleView[] = [];
  let worst: CandleView[] = [];
  for (const candle of candles) {
    run = candle.points === 0 ? [...run, candle] : [];
    if (run.length > worst.length) worst = run;
  }
  if (worst.length > allowedEmptyRun) {
    problems.push(
      `${worst.length} second(s) in a row without a point from ${worst[0]?.start} (rounds lost in the outage)`,
    );
  }
  return problems;
}

async function candlesOf(api: string, fromMs: number, toMs: number): Promise<CandleView[]> {
  const url = `${api}/api/v1/prices/${PAIR}/candles?interval=1s&from=${fromMs}&to=${toMs}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (response.status !== 200)
    throw new Error(`candles answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { candles: CandleView[] }).candles;
}

/**
 * Reads both replicas' candles over the outage until they are final and whole, or the timeout passes;
 * the problems of the last reading are the row's failures.
 */
async function verifyHistory(
  ctx: FaultContext,
  outage: { fromMs: number; toMs: number; timeoutMs: number },
): Promise<string[]> {
  const fromMs = Math.ceil(outage.fromMs / SECOND) * SECOND;
  const toMs = Math.floor(outage.toMs / SECOND) * SECOND + 2 * SECOND;
  const deadline = Date.now() + outage.timeoutMs;
  let problems: string[] = [];
  for (;;) {
    problems = [];
    const points: number[] = [];
    for (const replica of ctx.replicas) {
      try {
        const candles = await candlesOf(replica.api, fromMs, toMs);
        points.push(candles.reduce((sum, c) => sum + c.points, 0));
        problems.push(
          ...historyGaps(candles, ctx.intervalMs).map((p) => `history via ${replica.name}: ${p}`),
        );
      } catch (error) {
        problems.push(`history via ${replica.name}: ${(error as Error).message}`);
      }
    }
    if (problems.length === 0) {
      ctx.note(
        `history over ${(toMs - fromMs) / SECOND} s from the kill on: ${points.join(' / ')} points (replica a / b), no gap`,
      );
      return [];
    }
    if (Date.now() >= deadline) return problems;
    await sleep(250);
  }
}

export const HISTORY_REDIS_OUTAGE: Fault = {
  id: 'history-redis-outage',
  title: 'Redis killed: history has no gap after',
  expect: 'absorb',
  // With Prometheus (the full form): the history alert's expression turns true on the real metrics.
  alerts: ['RedisUnreachable', 'PriceHistoryWritesFailing'],
  async inject(ctx) {
    await ctx.redis.kill();
    await sleep(ctx.holdMs);
    await ctx.redis.start();
    ctx.cleared();
  },
  verify: verifyHistory,
};
