import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PriceReader } from '../../src/application/price-reader';
import type { PriceSnapshot } from '../../src/application/price-snapshot';
import { createPriceHandler, type PriceHandler } from '../../src/presentation/price-route';
import { SNAPSHOT, T } from '../fixtures/snapshots';

const FRESHNESS = { freshnessMs: 5000, maxStalenessMs: 60_000 };
const RETRY_AFTER_SECONDS = 2;

const ISO = (ms: number) => new Date(ms).toISOString();

/** Everything a test drives: the fake clock, the fake reader's tiers, and what the handler reported. */
interface Harness {
  now: number;
  l1: PriceSnapshot | undefined;
  l2: PriceSnapshot | undefined;
  reader: { current: jest.Mock; load: jest.Mock; accept: jest.Mock };
  handler: PriceHandler;
  served: string[];
  codes: number[];
}

let h: Harness;
let server: http.Server;
let base: string;

function newHarness(): Harness {
  const harness = {
    now: T + 1234,
    l1: SNAPSHOT as PriceSnapshot | undefined,
    l2: undefined as PriceSnapshot | undefined,
    served: [] as string[],
    codes: [] as number[],
  } as Harness;
  harness.reader = {
    current: jest.fn((_pair: string) => harness.l1),
    load: jest.fn(async (_pair: string) => harness.l2),
    accept: jest.fn(),
  };
  harness.handler = createPriceHandler({
    reader: harness.reader as unknown as PriceReader,
    freshness: FRESHNESS,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    pairs: ['eth-usdt'],
    countServed: (pair) => (status) => harness.served.push(`${pair}:${status}`),
    common: ['X-Content-Type-Options', 'nosniff'],
    clock: () => harness.now,
  });
  return harness;
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    void Promise.resolve(h.handler.handle(req, res, 'eth-usdt')).then((code) => h.codes.push(code));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  h = newHarness();
});

async function get(headers: Record<string, string> = {}, method = 'GET') {
  const res = await fetch(`${base}/api/v1/prices/eth-usdt`, { method, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

describe('GET /api/v1/prices/:pair: the 200 body', () => {
  test('When a fresh snapshot is in L1, then the body carries every field with exact decimal strings', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    expect(body).toStrictEqual({
      pair: 'ETH/USDT',
      price: '3500.015',
      bid: '3500.005',
      ask: '3500.025',
      confidence: '0.0025',
      method: 'median_of_mid',
      timestamp: '2025-06-15T12:00:00.000Z',
      ageMs: 1234,
      status: 'ok',
      stale: false,
      quorum: { used: 3, configured: 3, min: 2 },
      sources: [
        {
          exchange: 'binance',
          state: 'used',
          price: '3500.01',
          bid: '3500',
          ask: '3500.02',
          timestamp: '2025-06-15T12:00:00.000Z',
          timestampSource: 'receive',
          latencyMs: 12,
          deviationBps: '0.01',
        },
        {
          exchange: 'okx',
          state: 'used',
          price: '3500.02',
          bid: '3500.01',
          ask: '3500.03',
          timestamp: '2025-06-15T12:00:00.040Z',
          timestampSource: 'exchange',
          latencyMs: 31,
          deviationBps: '0.01',
        },
        {
          exchange: 'coinbase',
          state: 'used',
          price: '3500.015',
          bid: '3500.005',
          ask: '3500.025',
          timestamp: '2025-06-15T12:00:00.020Z',
          timestampSource: 'exchange',
          latencyMs: 25,
          deviationBps: '0',
        },
      ],
      updatedAt: '2025-06-15T12:00:00.300Z',
    });
    expect(Object.keys(body)).toEqual([
      'pair',
      'price',
      'bid',
      'ask',
      'confidence',
      'method',
      'timestamp',
      'ageMs',
      'status',
      'stale',
      'quorum',
      'sources',
      'updatedAt',
    ]);
    // Prices travel as JSON strings, never as numbers.
    expect(
      res.text.startsWith('{"pair":"ETH/USDT","price":"3500.015","bid":"3500.005","ask":"3500.025"'),
    ).toBe(true);
    expect(h.codes).toEqual([200]);
    expect(h.served).toEqual(['eth-usdt:ok']);
  });

  test('When a fresh response is sent, then its headers are JSON, exact length, cacheable to the freshness deadline and no Age', async () => {
    const res = await get();
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(res.text)));
    // 1234 ms old, fresh for 5000: 3766 ms left, less the 100 ms render slack, whole seconds, less one.
    expect(res.headers.get('cache-control')).toBe('public, max-age=2, s-maxage=2, must-revalidate');
    expect(res.headers.get('age')).toBeNull();
    expect(res.headers.get('etag')).toMatch(/^W\/"[A-Za-z0-9_-]{20}-ok"$/);
  });

  test('When a source failed, then its entry carries only exchange, state and error', async () => {
    h.l1 = {
      ...SNAPSHOT,
      quorum: { used: 2, configured: 3, min: 2 },
      sources: [
        ...SNAPSHOT.sources.slice(0, 2),
        { exchange: 'kraken', state: 'error', error: 'UPSTREAM_TIMEOUT' },
      ],
    };
    const body = JSON.parse((await get()).text) as { sources: unknown[]; status: string };
    expect(body.sources[2]).toStrictEqual({ exchange: 'kraken', state: 'error', error: 'UPSTREAM_TIMEOUT' });
    expect(body.status).toBe('degraded');
  });

  test.each([
    [0, 3],
    [1899, 2],
    [1901, 1],
    [3899, 0],
    [3901, 0],
    [5000, 0],
  ])('When the price is %i ms old, then caches may keep it %i s', async (ageMs, seconds) => {
    h.now = T + ageMs;
    const res = await get();
    expect(res.headers.get('cache-control')).toBe(
      `public, max-age=${seconds}, s-maxage=${seconds}, must-revalidate`,
    );
    expect((JSON.parse(res.text) as { ageMs: number }).ageMs).toBe(ageMs);
  });

  test('When the price timestamp is ahead of the clock, then ageMs is 0 and caches keep it no longer than a new price', async () => {
    h.now = T - 700;
    const res = await get();
    expect((JSON.parse(res.text) as { ageMs: number }).ageMs).toBe(0);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3, s-maxage=3, must-revalidate');
  });
});

describe('GET /api/v1/prices/:pair: age and status follow the clock', () => {
  test('When less than 100 ms passed, then the rendered body is reused; at 100 ms it is rendered again', async () => {
    h.now = T + 1000;
    const first = await get();
    h.now = T + 1099;
    const reused = await get();
    h.now = T + 1100;
    const rerendered = await get();
    expect((JSON.parse(first.text) as { ageMs: number }).ageMs).toBe(1000);
    expect(reused.text).toBe(first.text);
    expect((JSON.parse(rerendered.text) as { ageMs: number }).ageMs).toBe(1100);
  });

  test('When the price grows older than freshnessMs, then status turns stale and Cache-Control no-cache at once, not at the next render', async () => {
    h.now = T + 5000;
    const fresh = await get();
    h.now = T + 5001; // within 100 ms of the render at 5000 ms: its "ok" body must not be reused
    const stale = await get();
    expect(JSON.parse(fresh.text)).toMatchObject({ ageMs: 5000, status: 'ok', stale: false });
    expect(fresh.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=0, must-revalidate');
    expect(JSON.parse(stale.text)).toMatchObject({ ageMs: 5001, status: 'stale', stale: true });
    expect(stale.status).toBe(200);
    expect(stale.headers.get('cache-control')).toBe('no-cache');
    expect(stale.headers.get('age')).toBeNull();
    expect(stale.headers.get('etag')).toMatch(/-stale"$/);
    expect(h.served).toEqual(['eth-usdt:ok', 'eth-usdt:stale']);
  });

  test('When the last round missed the quorum, then the kept price is served as stale', async () => {
    h.l1 = { ...SNAPSHOT, quorum: { used: 1, configured: 3, min: 2 } };
    const res = await get();
    expect(JSON.parse(res.text)).toMatchObject({
      status: 'stale',
      stale: true,
      quorum: { used: 1, configured: 3, min: 2 },
    });
    expect(res.headers.get('cache-control')).toBe('no-cache');
  });

  test('When fewer than all but at least min sources were used, then the status is degraded and still cacheable', async () => {
    h.l1 = { ...SNAPSHOT, quorum: { used: 2, configured: 3, min: 2 } };
    const res = await get();
    expect(JSON.parse(res.text)).toMatchObject({ status: 'degraded', stale: false });
    expect(res.headers.get('cache-control')).toBe('public, max-age=2, s-maxage=2, must-revalidate');
    expect(res.headers.get('etag')).toMatch(/-degraded"$/);
  });
});

describe('GET /api/v1/prices/:pair: ETag and conditional requests', () => {
  test('When the same snapshot is served at different ages, then the weak ETag stays the same', async () => {
    const first = await get();
    h.now += 500;
    const later = await get();
    expect(later.text).not.toBe(first.text);
    expect(later.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  test('When another replica publishes the same data at another round time, then the ETag is the same', async () => {
    const first = await get();
    h.l1 = { ...SNAPSHOT, updatedAtMs: SNAPSHOT.updatedAtMs + 700 };
    const second = await get();
    expect((JSON.parse(second.text) as { updatedAt: string }).updatedAt).toBe(ISO(T + 1000));
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  test('When the price changes, then the ETag changes', async () => {
    const first = await get();
    h.l1 = { ...SNAPSHOT, price: { ...SNAPSHOT.price!, price: '3500.016' } };
    const second = await get();
    expect(second.headers.get('etag')).not.toBe(first.headers.get('etag'));
    expect(second.headers.get('etag')).toMatch(/^W\/"[A-Za-z0-9_-]{20}-ok"$/);
  });

  test('When a source entry changes, then the ETag changes', async () => {
    const first = await get();
    h.l1 = {
      ...SNAPSHOT,
      sources: [{ ...SNAPSHOT.sources[0]!, latencyMs: 13 }, ...SNAPSHOT.sources.slice(1)],
    };
    const second = await get();
    expect(second.headers.get('etag')).not.toBe(first.headers.get('etag'));
  });

  const conditional: [string, (etag: string) => string][] = [
    ['the exact weak ETag', (etag) => etag],
    ['the strong form of the same tag', (etag) => etag.slice(2)],
    ['a list containing it', (etag) => `"nope", W/"other-ok",${etag}`],
    ['a list containing its strong form', (etag) => `W/"other-ok" , ${etag.slice(2)}`],
    ['*', () => '*'],
    ['a list containing *', () => '"nope", *'],
  ];

  test.each(conditional)(
    'When If-None-Match is %s, then the answer is 304 with no body',
    async (_name, header) => {
      const etag = (await get()).headers.get('etag') as string;
      const res = await get({ 'If-None-Match': header(etag) });
      expect(res.status).toBe(304);
      expect(res.text).toBe('');
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('cache-control')).toBe('public, max-age=2, s-maxage=2, must-revalidate');
      expect(res.headers.get('age')).toBeNull();
      expect(res.headers.get('content-type')).toBeNull();
      expect(h.codes).toEqual([200, 304]);
      expect(h.served).toEqual(['eth-usdt:ok', 'eth-usdt:not_modified']);
    },
  );

  test('When If-None-Match names another tag, then the full 200 is sent', async () => {
    const res = await get({ 'If-None-Match': 'W/"somethingelse-ok", "x"' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ price: '3500.015' });
  });

  test('When If-None-Match holds the fresh ETag but the price has gone stale, then the full 200 is sent', async () => {
    const etag = (await get()).headers.get('etag') as string;
    h.now = T + 6000;
    const res = await get({ 'If-None-Match': etag });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ status: 'stale' });
  });

  test('When If-None-Match is a prefix of the ETag, then it does not match', async () => {
    const etag = (await get()).headers.get('etag') as string;
    const res = await get({ 'If-None-Match': etag.slice(0, -5) + '"' });
    expect(res.status).toBe(200);
  });
});

describe('HEAD /api/v1/prices/:pair', () => {
  test('When the method is HEAD, then the headers match GET and there is no body', async () => {
    const full = await get();
    const head = await get({}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(full.text)));
    expect(head.headers.get('etag')).toBe(full.headers.get('etag'));
    expect(head.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });
});

describe('GET /api/v1/prices/:pair: unavailable', () => {
  test('When neither L1 nor L2 has a snapshot, then the answer is a 503 problem with Retry-After', async () => {
    h.l1 = undefined;
    const res = await get();
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('etag')).toBeNull();
    expect(JSON.parse(res.text)).toStrictEqual({
      type: 'urn:problem-type:eth-usdt-price-service:price-unavailable',
      title: 'Price unavailable',
      status: 503,
      detail: 'No price has met the source quorum yet.',
      instance: '/api/v1/prices/eth-usdt',
      code: 'PRICE_UNAVAILABLE',
      pair: 'ETH/USDT',
    });
    expect(h.reader.load).toHaveBeenCalledTimes(1);
    expect(h.reader.load).toHaveBeenCalledWith('eth-usdt');
    expect(h.codes).toEqual([503]);
    expect(h.served).toEqual(['eth-usdt:unavailable']);
  });

  test('When the last price is older than maxStalenessMs, then the 503 names it and the quorum', async () => {
    h.l1 = { ...SNAPSHOT, quorum: { used: 0, configured: 3, min: 2 } };
    h.now = T + 60_001;
    const res = await get();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(JSON.parse(res.text)).toStrictEqual({
      type: 'urn:problem-type:eth-usdt-price-service:price-unavailable',
      title: 'Price unavailable',
      status: 503,
      detail:
        'No fresh quorum of sources, and the last good price (2025-06-15T12:00:00.000Z) is older than the maximum staleness.',
      instance: '/api/v1/prices/eth-usdt',
      code: 'PRICE_UNAVAILABLE',
      pair: 'ETH/USDT',
      lastPriceAt: '2025-06-15T12:00:00.000Z',
      quorum: { used: 0, configured: 3, min: 2 },
    });
  });

  test('When the last price is exactly maxStalenessMs old, then it is still served as stale', async () => {
    h.now = T + 60_000;
    const res = await get();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ status: 'stale', ageMs: 60_000 });
  });

  test('When the snapshot has no price yet, then the 503 carries the quorum but no lastPriceAt', async () => {
    const { price: _price, ...noPrice } = SNAPSHOT;
    h.l1 = { ...noPrice, quorum: { used: 1, configured: 3, min: 2 } };
    const res = await get();
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text)).toStrictEqual({
      type: 'urn:problem-type:eth-usdt-price-service:price-unavailable',
      title: 'Price unavailable',
      status: 503,
      detail: 'No price has met the source quorum yet.',
      instance: '/api/v1/prices/eth-usdt',
      code: 'PRICE_UNAVAILABLE',
      pair: 'ETH/USDT',
      quorum: { used: 1, configured: 3, min: 2 },
    });
  });

  test('When the price is unavailable, then If-None-Match: * still gets the 503, not a 304', async () => {
    h.l1 = undefined;
    const res = await get({ 'If-None-Match': '*' });
    expect(res.status).toBe(503);
  });
});

describe('GET /api/v1/prices/:pair: the L1 miss path', () => {
  test('When L1 misses and L2 has the snapshot, then load() supplies it and the answer is 200', async () => {
    h.l1 = undefined;
    h.l2 = SNAPSHOT;
    const res = await get();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ price: '3500.015', ageMs: 1234, status: 'ok' });
    expect(h.reader.current).toHaveBeenCalledWith('eth-usdt');
    expect(h.reader.load).toHaveBeenCalledTimes(1);
    expect(h.reader.load).toHaveBeenCalledWith('eth-usdt');
    expect(h.codes).toEqual([200]);
  });

  test('When L1 hits, then load() is never called', async () => {
    await get();
    await get();
    expect(h.reader.current).toHaveBeenCalledTimes(2);
    expect(h.reader.load).not.toHaveBeenCalled();
  });
});
