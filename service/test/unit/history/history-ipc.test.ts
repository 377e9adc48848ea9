import type { PriceHistory } from '../../../src/application/price-history';
import {
  answerHistoryRequest,
  createIpcHistory,
  type HistoryRequest,
  type HistoryResponse,
} from '../../../src/cluster/history-ipc';
import { createMemoryHistory } from '../../../src/infrastructure/history/memory-history';
import { CONTRACT_RETENTION, CONTRACT_RULES } from '../../helpers/history-contract';

/**
 * A worker's IPC history against a primary's store, the channel being a pair of functions that go through
 * a JSON round trip (what node:cluster's IPC does to a message), asynchronously like a real channel.
 */
function channel(primaryStore: PriceHistory, options: { drop?: boolean } = {}) {
  const sent: HistoryRequest[] = [];
  const worker = createIpcHistory({
    timeoutMs: 200,
    send(request) {
      sent.push(request);
      if (options.drop) return;
      const onWire = JSON.parse(JSON.stringify(request)) as unknown;
      setImmediate(() =>
        answerHistoryRequest(primaryStore, onWire, (response: HistoryResponse) => {
          setImmediate(() => worker.receive(JSON.parse(JSON.stringify(response))));
        }),
      );
    },
  });
  return { worker, sent };
}

describe('price history over IPC', () => {
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
    const { worker, sent } = channel(createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES), { drop: true });
    await expect(worker.oldest('eth-usdt')).rejects.toThrow(/timed out after 200 ms/);
    expect(sent).toHaveLength(1);
    // a late answer to the timed-out query is taken and ignored
    expect(worker.receive({ type: 'history-response', id: sent[0]!.id, value: 5 })).toBe(true);
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
    ['a write', { type: 'history-request', id: 1, method: 'append', pair: 'eth-usdt', args: [] }],
    ['close', { type: 'history-request', id: 1, method: 'close', pair: 'eth-usdt', args: [] }],
    ['too few args', { type: 'history-request', id: 1, method: 'candles', pair: 'eth-usdt', args: [1, 2] }],
    [
      'a non-number arg',
      { type: 'history-request', id: 1, method: 'pointAt', pair: 'eth-usdt', args: ['1'] },
    ],
    ['no id', { type: 'history-request', method: 'oldest', pair: 'eth-usdt', args: [] }],
  ])('When the primary gets %s, then it is not taken as a history query', (_name, message) => {
    const store = createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES);
    const replies: HistoryResponse[] = [];
    expect(answerHistoryRequest(store, message, (r) => replies.push(r))).toBe(false);
    expect(replies).toHaveLength(0);
  });
});
