import type { PriceHistory } from '../application/price-history';

/**
 * Price history over the cluster's IPC channel, for the embedded (no Redis) store: the primary holds the
 * history, its workers ask it. A respawned worker so serves the same history as the others. Queries only:
 * the primary alone writes.
 */

/** The PriceHistory methods a worker may ask for, and their arguments (all numbers after the pair). */
export const HISTORY_QUERIES = {
  pointAt: 1,
  points: 2,
  candles: 3,
  oldest: 0,
  newest: 0,
} as const;
export type HistoryQuery = keyof typeof HISTORY_QUERIES;

export interface HistoryRequest {
  readonly type: 'history-request';
  readonly id: number;
  readonly method: HistoryQuery;
  readonly pair: string;
  readonly args: readonly number[];
}

export interface HistoryResponse {
  readonly type: 'history-response';
  readonly id: number;
  /** Absent for an answer that is undefined (no point, no oldest). */
  readonly value?: unknown;
  /** Set when the query failed: the worker's call rejects with it. */
  readonly error?: string;
}

function isHistoryRequest(message: unknown): message is HistoryRequest {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Partial<HistoryRequest>;
  return (
    m.type === 'history-request' &&
    Number.isSafeInteger(m.id) &&
    typeof m.method === 'string' &&
    Object.hasOwn(HISTORY_QUERIES, m.method) &&
    typeof m.pair === 'string' &&
    Array.isArray(m.args) &&
    m.args.length === HISTORY_QUERIES[m.method] &&
    m.args.every((a) => Number.isFinite(a))
  );
}

/**
 * The primary's side: answers one message if it is a history request (and says whether it was one). An
 * answer always goes back, a failure included, so a worker never waits out its timeout for an error.
 */
export function answerHistoryRequest(
  history: PriceHistory,
  message: unknown,
  reply: (response: HistoryResponse) => void,
): boolean {
  if (!isHistoryRequest(message)) return false;
  const { id, method, pair, args } = message;
  const call = history[method] as (pair: string, ...args: number[]) => Promise<unknown>;
  call.call(history, pair, ...args).then(
    (value) =>
      reply(value === undefined ? { type: 'history-response', id } : { type: 'history-response', id, value }),
    (error: unknown) => reply({ type: 'history-response', id, error: (error as Error).message }),
  );
  return true;
}

function isHistoryResponse(message: unknown): message is HistoryResponse {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'history-response' &&
    Number.isSafeInteger((message as { id?: unknown }).id)
  );
}

export interface IpcHistory extends PriceHistory {
  /** A message from the primary: settles the query it answers (and says whether it was one). */
  receive(message: unknown): boolean;
}

/**
 * The worker's side: a PriceHistory whose queries are messages to the primary, each with an id and a
 * timeout (a busy or restarting primary answers the query with an error, never a hang).
 */
export function createIpcHistory(options: {
  send: (request: HistoryRequest) => void;
  timeoutMs: number;
}): IpcHistory {
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  let closed = false;

  function ask<T>(method: HistoryQuery, pair: string, args: number[]): Promise<T> {
    if (closed) return Promise.reject(new Error('price history closed'));
    return new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`price history query timed out after ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      try {
        options.send({ type: 'history-request', id, method, pair, args });
      } catch (error) {
        waiting.delete(id);
        clearTimeout(timer);
        reject(error as Error);
      }
    });
  }

  return {
    append: () => Promise.reject(new Error('a worker does not write price history')),
    pointAt: (pair, t) => ask('pointAt', pair, [t]),
    points: (pair, fromMs, toMs) => ask('points', pair, [fromMs, toMs]),
    candles: (pair, fromMs, toMs, intervalMs) => ask('candles', pair, [fromMs, toMs, intervalMs]),
    oldest: (pair) => ask('oldest', pair, []),
    newest: (pair) => ask('newest', pair, []),
    receive(message) {
      if (!isHistoryResponse(message)) return false;
      const entry = waiting.get(message.id);
      if (entry === undefined) return true; // timed out already
      waiting.delete(message.id);
      if (message.error !== undefined) entry.reject(new Error(message.error));
      else entry.resolve(message.value);
      return true;
    },
    async close() {
      closed = true;
      for (const entry of waiting.values()) entry.reject(new Error('price history closed'));
      waiting.clear();
    },
  };
}
