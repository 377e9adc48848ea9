import type { LocalCache, SharedCache } from '../../src/application/ports';
import { createPriceReader } from '../../src/application/price-reader';
import type { PriceSnapshot } from '../../src/application/price-snapshot';

const snapshot = (updatedAtMs: number): PriceSnapshot => ({
  v: 1,
  pair: 'eth-usdt',
  symbol: 'ETH/USDT',
  price: { price: '3500', bid: '3499.9', ask: '3500.1', confidence: '0.1', timestampMs: updatedAtMs },
  updatedAtMs,
  quorum: { used: 3, configured: 3, min: 2 },
  sources: [],
});

function setup(stored: PriceSnapshot | undefined) {
  const map = new Map<string, PriceSnapshot>();
  const l1: LocalCache = { get: (pair) => map.get(pair), set: (pair, s) => void map.set(pair, s) };
  const reads: string[] = [];
  const l2 = {
    getSnapshot: async (pair: string) => {
      reads.push(pair);
      return stored;
    },
  } as unknown as SharedCache;
  const lookups: string[] = [];
  const reader = createPriceReader({
    l1,
    l2,
    counters: { cacheLookup: (tier, result) => lookups.push(`${tier}:${result}`) },
  });
  return { reader, reads, lookups };
}

describe('price reader', () => {
  afterEach(() => jest.useRealTimers());

  test('When L1 and L2 are both empty, then many waiting requests make one L2 read per 100 ms', async () => {
    jest.useFakeTimers();
    const { reader, reads } = setup(undefined);
    const answers = await Promise.all(Array.from({ length: 20 }, () => reader.load('eth-usdt')));
    expect(answers.every((a) => a === undefined)).toBe(true);
    await reader.load('eth-usdt');
    expect(reads).toEqual(['eth-usdt']);
    await jest.advanceTimersByTimeAsync(100);
    await reader.load('eth-usdt');
    expect(reads).toEqual(['eth-usdt', 'eth-usdt']);
  });

  test('When L2 has a snapshot, then it lands in L1 and later reads are L1 hits', async () => {
    const { reader, reads, lookups } = setup(snapshot(1000));
    expect(reader.current('eth-usdt')).toBeUndefined();
    expect((await reader.load('eth-usdt'))?.updatedAtMs).toBe(1000);
    expect(reader.current('eth-usdt')?.updatedAtMs).toBe(1000);
    expect(reads).toHaveLength(1);
    expect(lookups).toEqual(['l1:miss', 'l1:hit']);
  });

  test('When snapshots arrive out of order, then the newer one is kept', () => {
    const { reader } = setup(undefined);
    reader.accept(snapshot(2000));
    reader.accept(snapshot(1000));
    expect(reader.current('eth-usdt')?.updatedAtMs).toBe(2000);
    reader.accept(snapshot(3000));
    expect(reader.current('eth-usdt')?.updatedAtMs).toBe(3000);
  });
});
