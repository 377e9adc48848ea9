import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PriceSnapshot } from '../../src/application/price-snapshot';
import { createBatchPriceHandler } from '../../src/presentation/batch-price-route';
import { createSnapshotView } from '../../src/presentation/snapshot-view';
import { SNAPSHOT, T } from '../fixtures/snapshots';

// The batch route over a fake reader: per-pair answers, and the status of the whole call.
const freshness = { freshnessMs: 5_000, maxStalenessMs: 60_000 };
const BTC: PriceSnapshot = { ...SNAPSHOT, pair: 'btc-usdt', symbol: 'BTC/USDT' };
let held: Record<string, PriceSnapshot | undefined> = {};
let server: http.Server;
let base: string;

beforeAll(async () => {
  const view = createSnapshotView(freshness);
  const handle = createBatchPriceHandler({
    reader: { current: (pair) => held[pair], load: async (pair) => held[pair] },
    view,
    pairs: ['eth-usdt', 'btc-usdt'],
    retryAfterSeconds: 2,
    common: [],
    clock: () => T + 1_000,
  });
  server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/prices`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

interface Entry {
  pair: string;
  status: number;
  body: Record<string, unknown>;
}

test('When one pair has no price, then the call is 200 and that pair carries its own 503 problem', async () => {
  held = { 'eth-usdt': SNAPSHOT, 'btc-usdt': undefined };
  const res = await fetch(`${base}?pairs=btc-usdt,eth-usdt,ETH-USDT`);
  expect(res.status).toBe(200);
  const { prices } = (await res.json()) as { prices: Entry[] };
  expect(prices.map((p) => [p.pair, p.status])).toEqual([
    ['btc-usdt', 503],
    ['eth-usdt', 200],
  ]);
  expect(prices[0]!.body).toMatchObject({ code: 'PRICE_UNAVAILABLE', status: 503, pair: 'BTC/USDT' });
  // the single route's bytes for the same snapshot at the same moment
  expect(prices[1]!.body).toEqual(JSON.parse(createSnapshotView(freshness).at(SNAPSHOT, T + 1_000).json));
  const etag = res.headers.get('etag')!;
  const again = await fetch(`${base}?pairs=btc-usdt,eth-usdt`, { headers: { 'If-None-Match': etag } });
  expect(again.status).toBe(304);
});

test('When no pair has a price, then 503 problem+json with every pair inside and Retry-After', async () => {
  held = {};
  const res = await fetch(base);
  expect(res.status).toBe(503);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.headers.get('retry-after')).toBe('2');
  const body = (await res.json()) as { code: string; prices: Entry[] };
  expect(body.code).toBe('PRICE_UNAVAILABLE');
  expect(body.prices.map((p) => [p.pair, p.status])).toEqual([
    ['eth-usdt', 503],
    ['btc-usdt', 503],
  ]);
});

test('When both pairs have prices and none is named, then all configured pairs answer', async () => {
  held = { 'eth-usdt': SNAPSHOT, 'btc-usdt': BTC };
  const res = await fetch(base);
  const { prices } = (await res.json()) as { prices: Entry[] };
  expect([res.status, prices.map((p) => p.body.pair)]).toEqual([200, ['ETH/USDT', 'BTC/USDT']]);
});
