import Big from 'big.js';
import {
  EXCHANGES,
  expectedQuote,
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
  type MockExchangeClient,
} from '../../../mock-exchange/src/mock-exchange';
import { eventually, sample } from '../helpers/metrics';
import { startService, type TestService } from '../helpers/service';

// The service in-process (no Redis: the history in its memory) against the mock exchange walking a known
// path: 3500 → 3510 → 3490. What the history routes say is checked against the prices the service
// published, computed by hand from the mock's quotes.
let mock: MockExchange;
let control: MockExchangeClient;
let service: TestService;

/** The price the service publishes for a mock mid: the exact median of the six exchanges' mids. */
function published(mid: string): string {
  const mids = EXCHANGES.map((e) => new Big(expectedQuote(e, mid).mid)).sort((a, b) => a.cmp(b));
  return mids[2]!.plus(mids[3]!).div(2).toFixed();
}

type Json = Record<string, unknown>;
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${service.url}${path}`, { headers });
const json = async <T = Json>(path: string) => {
  const res = await get(path);
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
};
const current = async () => (await json('/api/v1/prices/eth-usdt')).body;

/** Sets the mock's mid and waits until the service serves it: returns when it was seen. */
async function walkTo(mid: string): Promise<number> {
  await control.setPrice('ETH/USDT', mid, false);
  await eventually(current, (b) => b.price === published(mid) && b.status === 'ok', {
    what: `the service serving ${mid}`,
  });
  const seen = Date.now();
  // Each price stays in effect for over a second, seen in the service's own round times.
  await eventually(current, (b) => Date.parse(b.updatedAt as string) > seen + 1_500, {
    what: 'a stable stretch',
  });
  return seen;
}

const path = { first: 0, second: 0, third: 0, end: 0 };

beforeAll(async () => {
  mock = await startMockExchange();
  control = mockExchangeClient(mock.url);
  await control.setPrice('ETH/USDT', '3500.00', false);
  await control.setPrice('BTC/USDT', '65000.00', false);
  service = await startService({ MOCK_EXCHANGE_URL: mock.url, PAIRS: 'ETH/USDT,BTC/USDT' });
  path.first = await walkTo('3500.00');
  path.second = await walkTo('3510.00');
  path.third = await walkTo('3490.00');
  path.end = Date.parse((await current()).updatedAt as string);
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await mock?.close();
});

describe('the history of a known path (memory store)', () => {
  test('When asked at the instants each price was seen, then that price, its sources, immutable', async () => {
    for (const [t, mid] of [
      [path.first, '3500.00'],
      [path.second, '3510.00'],
      [path.third, '3490.00'],
    ] as const) {
      const { status, headers, body } = await json<Json & { sources: Json[] }>(
        `/api/v1/prices/eth-usdt/at/${t}`,
      );
      expect([status, body.price, body.final]).toEqual([200, published(mid), true]);
      expect(Date.parse(body.since as string)).toBeLessThanOrEqual(t);
      expect(body.sources.map((s) => s.exchange)).toEqual([...EXCHANGES]);
      expect(body.sources.every((s) => s.state === 'used')).toBe(true);
      expect(headers.get('cache-control')).toContain('immutable');
      const iso = new Date(t).toISOString();
      expect((await json(`/api/v1/prices/eth-usdt/at/${iso}`)).body).toEqual(body);
    }
  });

  test('When asked for the candles of the walk, then open, high, low and close are the path’s prices', async () => {
    // From the first whole second at 3500 (before it, the first rounds may have had fewer sources).
    const from = Math.ceil(path.first / 1_000) * 1_000;
    const extremes = async (interval: string) => {
      const { status, body } = await json<{ candles: Json[] }>(
        `/api/v1/prices/eth-usdt/candles?interval=${interval}&from=${from}&to=${path.end}`,
      );
      expect(status).toBe(200);
      // the service ran through the walk: not one interval without a price
      expect(body.candles.every((c) => c.gap === false)).toBe(true);
      const decimals = (key: string) => body.candles.map((c) => new Big(c[key] as string));
      return {
        candles: body.candles,
        high: decimals('high')
          .reduce((a, b) => (a.gt(b) ? a : b))
          .toFixed(),
        low: decimals('low')
          .reduce((a, b) => (a.lt(b) ? a : b))
          .toFixed(),
      };
    };
    const seconds = await extremes('1s');
    expect(seconds.candles[0]!.open).toBe(published('3500.00'));
    expect(seconds.candles[seconds.candles.length - 1]!.close).toBe(published('3490.00'));
    expect([seconds.high, seconds.low]).toEqual([published('3510.00'), published('3490.00')]);
    // a price that stayed a whole second: its candle's TWAP is that price, to the last digit
    const whole = seconds.candles.find((c) => c.open === c.close && c.high === c.low && c.closed === true);
    expect(whole?.twap).toBe(whole?.open);
    // the minutes hold the same prices (and perhaps one from before the walk in the first minute)
    const minutes = await extremes('1m');
    expect(minutes.candles[minutes.candles.length - 1]!.close).toBe(published('3490.00'));
    expect(new Big(minutes.high).gte(published('3510.00'))).toBe(true);
    expect(new Big(minutes.low).lte(published('3490.00'))).toBe(true);
  });

  test('When the window lies in the last stretch, then the TWAP is exactly its price and fully covered', async () => {
    // from just after the moment 3490 was seen up to now: the whole window lies in its stretch
    const window = Date.now() - path.third - 100;
    expect(window).toBeGreaterThanOrEqual(1_000);
    const { status, body } = await json(`/api/v1/prices/eth-usdt/twap?window=${window}ms`);
    expect([status, body.twap, body.coverage, body.covered]).toEqual([200, published('3490.00'), '1', '1']);
    // a window reaching back over 3510 and 3500 averages above it
    const longer = await json(`/api/v1/prices/eth-usdt/twap?window=${window + 60_000}ms`);
    expect(new Big(longer.body.twap as string).gt(published('3490.00'))).toBe(true);
  });

  test('When several pairs are asked at once, then each gets the single route’s body', async () => {
    const { status, body } = await json<{ prices: { pair: string; status: number; body: Json }[] }>(
      '/api/v1/prices?pairs=eth-usdt,BTC-USDT',
    );
    expect(status).toBe(200);
    expect(body.prices.map((p) => [p.pair, p.status])).toEqual([
      ['eth-usdt', 200],
      ['btc-usdt', 200],
    ]);
    expect(body.prices[0]!.body.price).toBe(published('3490.00'));
    expect(body.prices[1]!.body.price).toBe((await json('/api/v1/prices/btc-usdt')).body.price);
    expect(Object.keys(body.prices[0]!.body)).toEqual(Object.keys(await current()));
  });

  test.each([
    ['pairs=eth-usdt,doge-usdt', 'pairs'],
    ['pairs=', 'pairs'],
    [`pairs=${Array.from({ length: 21 }, () => 'eth-usdt').join(',')}`, 'pairs'],
    ['pairs=eth-usdt&pairs=btc-usdt', 'pairs'],
  ])('When the batch asks %p, then 400 naming %p', async (query, name) => {
    const { status, body } = await json<{ 'invalid-params': { name: string }[] }>(`/api/v1/prices?${query}`);
    expect(status).toBe(400);
    expect(body['invalid-params'].map((p) => p.name)).toEqual([name]);
  });

  test('When an unknown pair is asked alone, then 404 PAIR_NOT_SUPPORTED', async () => {
    for (const route of ['at/0', 'candles', 'twap']) {
      const { status, body } = await json(`/api/v1/prices/doge-usdt/${route}`);
      expect([status, body.code]).toEqual([404, 'PAIR_NOT_SUPPORTED']);
    }
  });

  test('When the walk was recorded, then the points written are counted and nothing is pending', async () => {
    const text = await service.metricsText();
    expect(
      sample(text, 'price_history_points_written_total', { pair: 'eth-usdt', result: 'written' }),
    ).toBeGreaterThan(5);
    expect(sample(text, 'price_history_points_pending')).toBe(0);
  });
});
