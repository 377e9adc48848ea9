import type { PriceHistory } from '../../../src/application/price-history';
import { createMemoryHistory } from '../../../src/infrastructure/history/memory-history';
import { startHistoryApp } from '../../fixtures/history-app';
import { CONTRACT_RETENTION, CONTRACT_RULES } from '../../helpers/history-contract';

// The history routes through Express (the table's paths), over a hand-made series whose every figure is
// worked out by hand below, with the clock fixed at NOW.
const T0 = Date.UTC(2025, 5, 15, 12, 0, 0);
const NOW = T0 + 170_000;
const s = (seconds: number) => T0 + seconds * 1_000;
const iso = (ms: number) => new Date(ms).toISOString();
const sources = (mid: string) => [
  { exchange: 'binance', state: 'used', mid },
  { exchange: 'okx', state: 'error' },
];
/**
 *   [  0 s,  20 s) 100.10 ok
 *   [ 20 s,  60 s) 100.40 degraded
 *   [ 60 s,  90 s)  99.90 stale
 *   [ 90 s, 120 s)  nothing (the price ended: unavailable)
 *   [120 s, 150 s) 100.00 ok
 *   [150 s, NOW=170 s) 100.20 ok
 */
const SERIES = [
  { t: s(0), price: '100.10', status: 'ok', sources: sources('100.10') },
  { t: s(20), price: '100.40', status: 'degraded', sources: sources('100.40') },
  { t: s(60), price: '99.90', status: 'stale', sources: sources('99.90') },
  { t: s(90), status: 'unavailable' },
  { t: s(120), price: '100.00', status: 'ok', sources: sources('100.00') },
  { t: s(150), price: '100.20', status: 'ok', sources: sources('100.20') },
] as const;

let app: { base: string; close(): Promise<void> };
let base: string;
let store: PriceHistory;
let failing = false;

beforeAll(async () => {
  store = createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES);
  for (const point of SERIES) await store.append('eth-usdt', point);
  // A store that fails on demand: the answer must be a 503, never a 500.
  const history: PriceHistory = new Proxy(store, {
    get: (target, name: keyof PriceHistory) =>
      failing ? () => Promise.reject(new Error('store down')) : target[name].bind(target),
  });
  app = await startHistoryApp({
    history,
    rules: CONTRACT_RULES,
    pointsRetentionMs: CONTRACT_RETENTION.pointsMs,
    clock: () => NOW,
  });
  base = app.base;
});
afterAll(() => app.close());
afterEach(() => {
  failing = false;
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
/** A JSON answer as the tests read it: a problem, a price, or candles. */
interface Body extends Record<string, unknown> {
  readonly candles: Record<string, unknown>[];
  readonly next: string | null;
  readonly code?: string;
}
const json = async (path: string) => {
  const res = await get(path);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
};
const invalidNames = (body: Body) => (body['invalid-params'] as { name: string }[]).map((p) => p.name);

describe('GET …/at/{time}', () => {
  test('When asked at an instant, then the price in effect, since when, its sources; final and immutable', async () => {
    const { status, headers, body } = await json(`/at/${s(30)}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      pair: 'ETH/USDT',
      at: iso(s(30)),
      price: '100.40',
      status: 'degraded',
      since: iso(s(20)),
      sources: sources('100.40'),
      final: true,
    });
    expect(headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = headers.get('etag')!;
    expect((await get(`/at/${s(30)}`, { 'If-None-Match': etag })).status).toBe(304);
    // the same instant in RFC 3339, another offset, and a fraction past the millisecond
    expect((await json('/at/2025-06-15T14:00:30.000999+02:00')).body).toEqual(body);
  });

  test('When the instant is at or after the newest point, then the answer is short-lived', async () => {
    const { body, headers } = await json(`/at/${s(160)}`);
    expect(body).toMatchObject({ price: '100.20', since: iso(s(150)), final: false });
    expect(headers.get('cache-control')).toBe('public, max-age=1, must-revalidate');
    // up to the newest point the answer is settled (points are only appended after it); past it, not yet
    expect((await json(`/at/${s(150)}`)).body.final).toBe(true);
    expect((await json(`/at/${s(150) + 1}`)).body.final).toBe(false);
  });

  test('When no price was in effect, then 404 NO_PRICE_IN_EFFECT', async () => {
    const { status, body, headers } = await json(`/at/${s(100)}`);
    expect(status).toBe(404);
    expect(body).toMatchObject({ code: 'NO_PRICE_IN_EFFECT', at: iso(s(100)) });
    expect(headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  test.each([
    ['before the oldest point', T0 - 1],
    ['in the future', NOW + 1],
  ])('When the instant is %s, then 404 HISTORY_OUT_OF_RANGE naming the earliest instant', async (_n, t) => {
    const { status, body } = await json(`/at/${t}`);
    expect(status).toBe(404);
    expect(body).toMatchObject({ code: 'HISTORY_OUT_OF_RANGE', earliest: iso(T0), latest: iso(NOW) });
  });

  test.each([
    'yesterday',
    '2025-02-30T00:00:00Z',
    '2025-06-15T24:00:00Z',
    '2025-06-15T12:00:00',
    '1e12',
    '-5',
  ])('When the time is %p, then 400 naming `time`', async (time) => {
    const { status, body } = await json(`/at/${encodeURIComponent(time)}`);
    expect(status).toBe(400);
    expect(body.code).toBe('INVALID_PARAMETERS');
    expect(invalidNames(body)).toEqual(['time']);
  });

  test('When the store cannot be reached, then 503 HISTORY_UNAVAILABLE with Retry-After', async () => {
    failing = true;
    const res = await get(`/at/${s(30)}`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ code: 'HISTORY_UNAVAILABLE' });
  });
});

describe('GET …/candles', () => {
  test('When asked for 1m candles, then OHLC, TWAP, coverage and stale time are the hand-computed ones', async () => {
    const { status, body } = await json(`/candles?interval=1m&from=${T0}&to=${NOW}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      pair: 'ETH/USDT',
      interval: '1m',
      from: iso(T0),
      to: iso(s(180)),
      next: null,
    });
    expect(body.candles).toEqual([
      // 100.10 × 20 s + 100.40 × 40 s = 6018 over 60 s → 100.3
      {
        start: iso(s(0)),
        end: iso(s(60)),
        open: '100.10',
        high: '100.40',
        low: '100.10',
        close: '100.40',
        twap: '100.3',
        points: 2,
        coverage: '1',
        degradedMs: 40_000,
        staleMs: 0,
        gap: false,
        closed: true,
        final: true,
      },
      // 99.90 stale for 30 s, then nothing: no fresh coverage, one point (the end is not a price)
      {
        start: iso(s(60)),
        end: iso(s(120)),
        open: '99.90',
        high: '99.90',
        low: '99.90',
        close: '99.90',
        twap: '99.9',
        points: 1,
        coverage: '0',
        degradedMs: 0,
        staleMs: 30_000,
        gap: false,
        closed: true,
        final: true,
      },
      // open: 100.00 × 30 s + 100.20 × 20 s = 5004 over the 50 s so far → 100.08
      {
        start: iso(s(120)),
        end: iso(s(180)),
        open: '100.00',
        high: '100.20',
        low: '100.00',
        close: '100.20',
        twap: '100.08',
        points: 2,
        coverage: '1',
        degradedMs: 0,
        staleMs: 0,
        gap: false,
        closed: false,
        final: false,
      },
    ]);
  });

  test('When a range is fixed and every candle final, then immutable with an ETag; open or unfixed, short-lived', async () => {
    const fixed = await get(`/candles?interval=1m&from=${T0}&to=${s(120)}`);
    expect(fixed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = fixed.headers.get('etag')!;
    const again = await get(`/candles?interval=1m&from=${T0}&to=${s(120)}`, { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    const open = await get(`/candles?interval=1m&from=${T0}&to=${NOW}`);
    expect(open.headers.get('cache-control')).toBe('public, max-age=1, must-revalidate');
    const unfixed = await get(`/candles?interval=1m&from=${T0}`);
    expect(unfixed.headers.get('cache-control')).toBe('public, max-age=1, must-revalidate');
  });

  test('When seconds hold no price, then they are gaps; with fill=previous they carry the last close', async () => {
    const range = `interval=1s&from=${s(88)}&to=${s(92)}`;
    const plain = (await json(`/candles?${range}`)).body.candles as Record<string, unknown>[];
    expect(plain.map((c) => [c.close, c.gap, c.points])).toEqual([
      ['99.90', false, 0],
      ['99.90', false, 0],
      [undefined, true, 0],
      [undefined, true, 0],
    ]);
    expect(plain[2]).not.toHaveProperty('twap');
    const filled = (await json(`/candles?${range}&fill=previous`)).body.candles as Record<string, unknown>[];
    expect(filled[2]).toMatchObject({ open: '99.90', close: '99.90', gap: true, filled: true, points: 0 });
    expect(filled[2]).not.toHaveProperty('twap');
  });

  test('When candles are asked again (kept final candles, gaps filled), then the same bytes, and they are JSON.stringify’s', async () => {
    for (const query of [
      `interval=1s&from=${s(86)}&to=${s(94)}&fill=previous`,
      `interval=1m&from=${T0}&to=${NOW}`,
    ]) {
      const first = await (await get(`/candles?${query}`)).text();
      const second = await (await get(`/candles?${query}`)).text();
      expect(second).toBe(first);
      // The body is assembled from each candle's JSON: it must be exactly what stringifying the whole gives.
      expect(JSON.stringify(JSON.parse(first))).toBe(first);
    }
    const plain = (await json(`/candles?interval=1s&from=${s(86)}&to=${s(94)}`)).body.candles;
    expect(plain.filter((c) => c.filled)).toEqual([]);
  });

  test('When a page limit is given, then pages follow one another through `next` until none is left', async () => {
    const first = await json(`/candles?interval=1m&from=${T0}&to=${NOW}&limit=2`);
    expect(first.body.candles.map((c) => c.start)).toEqual([iso(s(0)), iso(s(60))]);
    const next = new URL(first.body.next as string, base);
    const second = (await (
      await fetch(`${base.split('/api')[0]}${next.pathname}${next.search}`)
    ).json()) as Body;
    expect(second.candles.map((c) => c.start)).toEqual([iso(s(120))]);
    expect(second.next).toBeNull();
  });

  test.each([
    ['interval=2m', ['interval']],
    [`interval=1s&from=${T0 - 86_400_000}&to=${T0}`, ['interval']], // 86,400 candles: past the bound
    [`from=0&to=${T0}`, ['from']], // 55 years: past the bound at any interval
    [`from=${s(60)}&to=${s(0)}`, ['from']],
    [`from=${NOW + 60_000}`, ['from']],
    ['from=soon', ['from']],
    ['fill=linear', ['fill']],
    ['limit=0', ['limit']],
    ['limit=1.5', ['limit']],
    ['interval=1m&interval=5m', ['interval']],
    [`interval=1m&from=${T0}&to=${NOW}&cursor=nonsense`, ['cursor']],
    ['interval=fortnight&fill=sideways', ['interval', 'fill']],
  ])('When the query is %p, then 400 naming %p', async (query, names) => {
    const { status, body } = await json(`/candles?${query}`);
    expect(status).toBe(400);
    expect(invalidNames(body)).toEqual(names);
  });
});

describe('GET …/twap', () => {
  test('When asked for a window, then the time-weighted average of the hand-computed series, with its coverage', async () => {
    // [50 s, 170 s): 100.40 × 10 + 99.90 × 30 + (30 s of nothing) + 100.00 × 30 + 100.20 × 20 = 9005 over 90 s
    const { status, body } = await json('/twap?window=2m');
    expect(status).toBe(200);
    expect(body).toEqual({
      pair: 'ETH/USDT',
      window: '2m',
      from: iso(s(50)),
      to: iso(NOW),
      twap: '100.055555555555555556',
      coverage: '0.5', // fresh for 10 + 30 + 20 s of 120
      covered: '0.75', // any price for 90 s of 120
      points: 3,
      degradedMs: 10_000,
      staleMs: 30_000,
    });
    expect((await json('/twap?window=10s')).body.twap).toBe('100.2');
  });

  test('When nothing was in effect in the window, then 404 NO_PRICE_IN_EFFECT', async () => {
    const { status, body } = await json('/twap?window=1s');
    expect([status, body.code]).toEqual([200, undefined]); // 100.20 is still in effect at NOW
    await store.append('eth-usdt', { t: s(165), status: 'unavailable' });
    const ended = await json('/twap?window=5s');
    expect([ended.status, ended.body.code]).toEqual([404, 'NO_PRICE_IN_EFFECT']);
    await store.append('eth-usdt', { t: s(166), price: '100.20', status: 'ok', sources: sources('100.20') });
  });

  test.each(['abc', '0s', '500ms', '31m', '5M'])(
    'When the window is %p, then 400 naming `window`',
    async (w) => {
      const { status, body } = await json(`/twap?window=${w}`);
      expect(status).toBe(400);
      expect(invalidNames(body)).toEqual(['window']);
    },
  );
});
