import type { PriceHistory } from '../../src/application/price-history';
import { candlesFromPoints } from '../../src/domain/history/candles';
import type { HistoryPoint } from '../../src/domain/history/price-point';

/** The rules and retention every store is built with in the contract. */
export const CONTRACT_RULES = { maxInEffectMs: 60_000 };
export const CONTRACT_RETENTION = { pointsMs: 30 * 60_000, minutesMs: 30 * 86_400_000 };

/** A price walk: one point every 1–5 s with six sources, some degraded, stale and ended. */
export function walkPoints(fromMs: number, toMs: number, seed = 11): HistoryPoint[] {
  let state = seed;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) >>> 8;
  const points: HistoryPoint[] = [];
  let cents = 352_143;
  for (let t = fromMs; t < toMs; t += 1_000 * (1 + (next() % 5))) {
    cents += (next() % 41) - 20;
    const roll = next() % 100;
    if (roll < 2) {
      points.push({ t, status: 'unavailable' });
      continue;
    }
    const status = roll < 8 ? 'stale' : roll < 20 ? 'degraded' : 'ok';
    const mid = (cents / 100).toFixed(2);
    const sources = ['binance', 'coinbase', 'kraken', 'okx', 'bybit', 'kucoin'].map((exchange, i) =>
      i === 5 && status !== 'ok' ? { exchange, state: 'error' } : { exchange, state: 'used', mid },
    );
    points.push({ t, price: mid, status, sources });
    if (roll === 99) t += 150_000; // silence: past maxInEffectMs, whole minutes of gap
  }
  return points;
}

/** What every PriceHistory must do; `make` builds a fresh, empty store. */
export function historyContract(name: string, make: () => Promise<PriceHistory>): void {
  describe(`${name}: the history store contract`, () => {
    let history: PriceHistory;
    beforeEach(async () => {
      history = await make();
    });
    afterEach(() => history.close());

    test('When points are appended, then a point at or before the last stored time is a duplicate', async () => {
      expect(await history.append('eth-usdt', { t: 1_000, price: '1.5', status: 'ok' })).toBe('written');
      expect(await history.append('eth-usdt', { t: 1_000, price: '9', status: 'ok' })).toBe('duplicate');
      expect(await history.append('eth-usdt', { t: 999, price: '9', status: 'ok' })).toBe('duplicate');
      expect(await history.append('btc-usdt', { t: 999, price: '9', status: 'ok' })).toBe('written');
      expect(await history.points('eth-usdt', 0, 10_000)).toEqual([
        { t: 1_000, price: '1.5', status: 'ok', sources: [] },
      ]);
    });

    test('When asked at an instant, then the price in effect comes with its sources, and ends where it ended', async () => {
      const sources = [
        { exchange: 'binance', state: 'used', mid: '3521.43' },
        { exchange: 'okx', state: 'error' },
      ];
      await history.append('eth-usdt', { t: 10_000, price: '3521.43', status: 'degraded', sources });
      await history.append('eth-usdt', { t: 20_000, status: 'unavailable' });
      await history.append('eth-usdt', { t: 30_000, price: '3522', status: 'ok', sources });
      expect(await history.pointAt('eth-usdt', 9_999)).toBeUndefined();
      expect(await history.pointAt('eth-usdt', 10_000)).toEqual({
        t: 10_000,
        price: '3521.43',
        status: 'degraded',
        sources,
      });
      expect((await history.pointAt('eth-usdt', 19_999))?.price).toBe('3521.43');
      expect(await history.pointAt('eth-usdt', 25_000)).toBeUndefined();
      expect((await history.pointAt('eth-usdt', 89_999))?.price).toBe('3522');
      expect(await history.pointAt('eth-usdt', 90_000)).toBeUndefined(); // outlived maxInEffectMs
      expect(await history.oldest('eth-usdt')).toBe(10_000);
      expect(await history.newest('eth-usdt')).toBe(30_000);
      expect(await history.newest('btc-usdt')).toBeUndefined();
    });

    test('When a walk is stored, then candles at every interval equal those computed from all its points', async () => {
      const start = 1_700_000_000_000 - (1_700_000_000_000 % 86_400_000); // a UTC midnight
      const points = walkPoints(start - 20_000, start + 3 * 3_600_000 + 17_000);
      for (const point of points) expect(await history.append('eth-usdt', point)).toBe('written');
      const end = start + 3 * 3_600_000 + 60_000; // the last minute is still open
      for (const intervalMs of [60_000, 300_000, 900_000, 3_600_000]) {
        expect(
          await history.candles('eth-usdt', start, end + intervalMs - (end % intervalMs), intervalMs),
        ).toEqual(
          candlesFromPoints(points, start, end + intervalMs - (end % intervalMs), intervalMs, CONTRACT_RULES),
        );
      }
      // fine points older than their retention (30 min) are gone, give or take what a trim leaves (Redis'
      // MINID ~ drops whole stream nodes of up to 100 entries); the minutes still answer for them
      const last = points[points.length - 1]!.t;
      expect(await history.oldest('eth-usdt')).toBeGreaterThanOrEqual(last - 30 * 60_000 - 100 * 5_000);
      expect(await history.points('eth-usdt', start, start + 3_600_000)).toHaveLength(0);
      const [day] = await history.candles('eth-usdt', start, start + 86_400_000, 86_400_000);
      expect(day).toEqual(
        candlesFromPoints(points, start, start + 86_400_000, 86_400_000, CONTRACT_RULES)[0],
      );
    });
  });
}
