import type { SharedCache } from '../../src/application/ports';
import type { PriceHistory } from '../../src/application/price-history';
import type { PriceSnapshot } from '../../src/application/price-snapshot';
import {
  answerPrimaryQuery,
  createPrimaryQueries,
  type QueryRequest,
  type QueryResponse,
} from '../../src/cluster/primary-queries';
import { createMemoryHistory } from '../../src/infrastructure/history/memory-history';
import { CONTRACT_RETENTION, CONTRACT_RULES } from '../helpers/history-contract';

const noL2: Pick<SharedCache, 'getSnapshot'> = { getSnapshot: async () => undefined };

/**
 * A worker's queries against a primary's store and L2, the channel being a pair of functions that go through
 * a JSON round trip (what node:cluster's IPC does to a message), asynchronously like a real channel.
 */
function channel(
  primaryStore: PriceHistory,
  options: { drop?: boolean; shared?: Pick<SharedCache, 'getSnapshot'> } = {},
) {
  const sent: QueryRequest[] = [];
  let failedReads = 0;
  const queries = createPrimaryQueries({
    historyTimeoutMs: 200,
    snapshotTimeoutMs: 200,
    snapshotFailed: () => failedReads++,
    send(request) {
      sent.push(request);
      if (options.drop) return;
      const onWire = JSON.parse(JSON.stringify(request)) as unknown;
      const sources = { history: primaryStore, shared: options.shared ?? noL2 };
      setImmediate(() =>
        answerPrimaryQuery(sources, onWire, (response: QueryResponse) => {
          setImmediate(() => queries.receive(JSON.parse(JSON.stringify(response))));
        }),
      );
    },
  });
  return { worker: queries.history, queries, sent, failedReads: () => failedReads };
}

describe('L2 reads through the primary', () => {
  test('When a worker reads a snapshot, then it gets the primary L2 answer, a miss included', async () => {
    const snapshot: PriceSnapshot = {
      v: 1,
      pair: 'eth-usdt',
      symbol: 'ETH/USDT',
      price: { price: '3521.430000000001', bid: '3521.4', ask: '3521.5', confidence: '0.1', timestampMs: 5 },
      updatedAtMs: 5,
      quorum: { used: 3, configured: 3, min: 2 },
      sources: [],
    };
    const shared = { getSnapshot: async (pair: string) => (pair === 'eth-usdt' ? snapshot : undefined) };
    const { queries, failedReads } = channel(createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES), {
      shared,
    });
    expect(await queries.snapshots.getSnapshot('eth-usdt')).toEqual(snapshot);
    expect(await queries.snapshots.getSnapshot('btc-usdt')).toBeUndefined();
    expect(failedReads()).toBe(0);
  });

  test('When the primary does not answer or its read fails, then the read is a counted miss, never a rejection', async () => {
    const silent = channel(createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES), { drop: true });
    await expect(silent.queries.snapshots.getSnapshot('eth-usdt')).resolves.toBeUndefined();
    expect(silent.failedReads()).toBe(1);
    const failing = channel(createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES), {
      shared: { getSnapshot: () => Promise.reject(new Error('redis gone')) },
    });
    await expect(failing.queries.snapshots.getSnapshot('eth-usdt')).resolves.toBeUndefined();
    expect(failing.failedReads()).toBe(1);
  });
});

describe('price history through the primary', () => {
  test('When a worker queries, then it gets the answers of the primary store, undefined included', async () => {
    const store = createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES);
    const sources = [{ exchange: 'okx', state: 'used', mid: '3521.43' }];
    await store.append('eth-usdt', { t: 60_000, price: '3521.43', status: 'ok', sources });
    await store.append('eth-usdt', { t: 130_000, price: '3522.5', status: 'degraded', sources });
    const { worker } = channel(store);
    expect(await worker.pointAt('eth-usdt', 70_000)).toEqual(await store.pointAt('eth-usdt', 70_000));
    expect((await worker.pointAt('eth-usdt', 70_000))?.price).toBe('3521.43');
    expect(await worker.pointAt('eth-usdt', 1_000)).toBeUndefined();
    expect(await worker.points('eth-usdt', 0, 200_000)).toEqual(await store.points('eth-usdt', 0, 200_000));
    expect(await worker.candles('eth-usdt', 0, 240_000, 60_000)).toEqual(
      await store.candles('eth-usdt', 0, 240_000, 60_000),
    );
    expect(await worker.oldest('eth-usdt')).toBe(60_000);
    expect(await worker.newest('eth-usdt')).toBe(130_000);
    expect(await worker.newest('btc-usdt')).toBeUndefined();
  });

  test('When the primary store fails, then the worker call rejects with its message', async () => {
    const store = createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES);
    const failing: PriceHistory = { ...store, candles: () => Promise.reject(new Error('store down')) };
    const { worker } = channel(failing);
    await expect(worker.candles('eth-usdt', 0, 60_000, 60_000)).rejects.toThrow('store down');
  });

  test('When the primary does not answer, then the query fails after its timeout instead of hanging', async () => {
    const { worker, queries, sent } = channel(createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES), {
      drop: true,
    });
    await expect(worker.oldest('eth-usdt')).rejects.toThrow(
      /oldest query to the primary timed out after 200 ms/,
    );
    expect(sent).toHaveLength(1);
    // a late answer to the timed-out query is taken and ignored
    expect(queries.receive({ type: 'query-response', id: sent[0]!.id, value: 5 })).toBe(true);
  });

  test('When the worker closes, then queries under way and later ones reject', async () => {
    const { worker } = channel(createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES), { drop: true });
    const pending = worker.oldest('eth-usdt');
    await worker.close();
    await expect(pending).rejects.toThrow('closed');
    await expect(worker.newest('eth-usdt')).rejects.toThrow('closed');
    await expect(worker.append('eth-usdt', { t: 1, price: '1', status: 'ok' })).rejects.toThrow();
  });

  test.each([
    ['another type', { type: 'metrics-request', id: 1 }],
    ['a write', { type: 'query-request', id: 1, method: 'append', pair: 'eth-usdt', args: [] }],
    ['close', { type: 'query-request', id: 1, method: 'close', pair: 'eth-usdt', args: [] }],
    ['too few args', { type: 'query-request', id: 1, method: 'candles', pair: 'eth-usdt', args: [1, 2] }],
    ['a non-number arg', { type: 'query-request', id: 1, method: 'pointAt', pair: 'eth-usdt', args: ['1'] }],
    ['no id', { type: 'query-request', method: 'oldest', pair: 'eth-usdt', args: [] }],
    [
      'a snapshot with args',
      { type: 'query-request', id: 1, method: 'snapshot', pair: 'eth-usdt', args: [1] },
    ],
    ['a L2 write', { type: 'query-request', id: 1, method: 'putSnapshot', pair: 'eth-usdt', args: [] }],
  ])('When the primary gets %s, then it is not taken as a query', (_name, message) => {
    const store = createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES);
    const replies: QueryResponse[] = [];
    const sources = { history: store, shared: noL2 };
    expect(answerPrimaryQuery(sources, message, (r) => replies.push(r))).toBe(false);
    expect(replies).toHaveLength(0);
  });
});
