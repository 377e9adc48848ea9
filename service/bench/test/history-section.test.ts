import { historyTargets, type HistoryFigures } from '../history-section';

const route = (withinTarget: number, failed: Record<string, number> = {}) => ({
  requests: 500,
  failed,
  p50Ms: 1,
  p99Ms: withinTarget >= 0.99 ? 4 : 9,
  withinTarget,
});
const figures = (changes: Partial<HistoryFigures> = {}): HistoryFigures => ({
  seeded: { points: 86_400, fromMs: 0, toMs: 86_399_000, seconds: 20 },
  seconds: 10,
  rates: { at: 50, candles: 5 },
  alone: { at: route(0.995), candles: route(1) },
  underRest: { at: route(0.9), candles: route(0.5) },
  rest: { with: 0.93, without: 0.95, serviceRps: 9300, bareRps: 10_000 },
  ...changes,
});
const results = (h: HistoryFigures) => historyTargets(h).map((t) => t.met);

describe('the history section targets', () => {
  it('are met with 99% within each bound, no failure, and the REST ratio within 0.05 of the one without', () => {
    expect(results(figures())).toEqual([true, true, true]);
  });

  it('are missed below 99% within the bound, on any failed request, or with the REST ratio 0.05 lower', () => {
    expect(results(figures({ alone: { at: route(0.985), candles: route(1) } }))).toEqual([false, true, true]);
    expect(results(figures({ alone: { at: route(1), candles: route(1, { '404': 1 }) } }))).toEqual([
      true,
      false,
      true,
    ]);
    const slower = { with: 0.89, without: 0.95, serviceRps: 8900, bareRps: 10_000 };
    expect(results(figures({ rest: slower }))).toEqual([true, true, false]);
  });

  it('are missed when nothing was measured', () => {
    const none = { ...route(NaN), requests: 0 };
    expect(results(figures({ alone: { at: none, candles: none } }))).toEqual([false, false, true]);
  });
});
