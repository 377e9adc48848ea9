import type { CandleAnswer } from '../application/history-queries';
import { candleFigures, type Candle } from '../domain/history/candles';
import { iso } from './history-params';

/** At most this many rendered candles are kept per process (a day of 1 m candles for a few pairs). */
const MAX_KEPT = 10_000;

/** One candle as the candles route answers it. */
export function candleView(answer: CandleAnswer, filled: Candle, lengthMs: number) {
  const { candle } = answer;
  const figures = candleFigures(candle);
  return {
    start: iso(candle.startMs),
    end: iso(candle.startMs + lengthMs),
    open: filled.open,
    high: filled.high,
    low: filled.low,
    close: filled.close,
    twap: figures.twap,
    points: candle.points,
    coverage: figures.freshCoverage,
    degradedMs: candle.degradedMs,
    staleMs: candle.staleMs,
    gap: figures.gap,
    ...(figures.gap && filled.close !== undefined ? { filled: true } : {}),
    closed: !answer.open,
    final: answer.final,
  };
}

/**
 * The JSON of each candle of an answer. A final candle (closed, and no point can still land in it) with a
 * price never changes, nor does its JSON: that is kept, so a day of 1 m candles asked again (a chart
 * polling) renders only the candles that are new, instead of 1,440 TWAP divisions, dates and objects.
 * Gaps are rendered each time (`fill=previous` gives them the close before them).
 */
export function createCandleJson() {
  const kept = new Map<string, string>();
  return {
    render(pair: string, answer: CandleAnswer, filled: Candle, lengthMs: number): string {
      const keep = answer.final && !answer.open && answer.candle.coveredMs > 0;
      if (!keep) return JSON.stringify(candleView(answer, filled, lengthMs));
      const key = `${pair} ${lengthMs} ${answer.candle.startMs}`;
      let json = kept.get(key);
      if (json === undefined) {
        json = JSON.stringify(candleView(answer, filled, lengthMs));
        // Bounded: when full, start again (the next requests render what they need once more).
        if (kept.size >= MAX_KEPT) kept.clear();
        kept.set(key, json);
      }
      return json;
    },
  };
}
