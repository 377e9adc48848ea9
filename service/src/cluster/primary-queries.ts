import type { SharedCache } from '../application/ports';
import type { PriceHistory } from '../application/price-history';
import type { PriceSnapshot } from '../application/price-snapshot';

/**
 * What a cluster worker reads through its primary over the IPC channel: L2 snapshots on an L1 miss (so a
 * worker holds no cache connection and loads no snapshot schemas, docs/performance-accounting.md) and,
 * without Redis, the price history the primary keeps in memory (so a respawned worker serves the same
 * history as the others). Queries only: the primary alone writes.
 */

/** The queries a worker may send, and how many numeric arguments follow the pair. */
export const PRIMARY_QUERIES = {
  pointAt: 1,
  points: 2,
  candles: 3,
  oldest: 0,
  newest: 0,
  /** The L2 snapshot of the pair (SharedCache.getSnapshot). */
  snapshot: 0,
} as const;
export type PrimaryQuery = keyof typeof PRIMARY_QUERIES;

export interface QueryRequest {
  readonly type: 'query-request';
  readonly id: number;
  readonly method: PrimaryQuery;
  readonly pair: string;
  readonly args: readonly number[];
}

export interface QueryResponse {
  readonly type: 'query-response';
  readonly id: number;
  /** Absent for an answer that is undefined (no point, no oldest, no snapshot). */
  readonly value?: unknown;
  /** Set when the query failed: the worker's call rejects with it. */
  readonly error?: string;
}

function isQueryRequest(message: unknown): message is QueryRequest {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Partial<QueryRequest>;
  return (
    m.type === 'query-request' &&
    Number.isSafeInteger(m.id) &&
    typeof m.method === 'string' &&
    Object.hasOwn(PRIMARY_QUERIES, m.method) &&
    typeof m.pair === 'string' &&
    Array.isArray(m.args) &&
    m.args.length === PRIMARY_QUERIES[m.method] &&
    m.args.every((a) => Number.isFinite(a))
  );
}

/** What the primary answers from. */
export interface QuerySources {
  readonly history: PriceHistory;
  readonly shared: Pick<SharedCache, 'getSnapshot'>;
}

/**
 * The primary's side: answers one message if it is a query (and says whether it was one). An answer always
 * goes back, a failure included, so a worker never waits out its timeout for an error.
 */
export function answerPrimaryQuery(
  sources: QuerySources,
  message: unknown,
  reply: (response: QueryResponse) => void,
): boolean {
  if (!isQueryRequest(message)) return false;
  const { id, method, pair, args } = message;
  const answer: Promise<unknown> =
    method === 'snapshot'
      ? sources.shared.getSnapshot(pair)
      : (sources.history[method] as (pair: string, ...args: number[]) => Promise<unknown>).call(
          sources.history,
          pair,
          ...args,
        );
  answer.then(
    (value) =>
      reply(value === undefined ? { type: 'query-response', id } : { type: 'query-response', id, value }),
    (error: unknown) => reply({ type: 'query-response', id, error: (error as Error).message }),
  );
  return true;
}

function isQueryResponse(message: unknown): message is QueryResponse {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'query-response' &&
    Number.isSafeInteger((message as { id?: unknown }).id)
  );
}

export interface PrimaryQueries {
  /** The primary's price history, read-only. */
  readonly history: PriceHistory;
  /** The primary's L2, read-only: an unanswered or failed read is a miss, never a rejection. */
  readonly snapshots: Pick<SharedCache, 'getSnapshot'>;
  /** A message from the primary: settles the query it answers (and says whether it was one). */
  receive(message: unknown): boolean;
  /** Queries under way and later ones reject. */
  close(): Promise<void>;
}

/**
 * The worker's side: each query is a message to the primary with an id and a timeout (a busy or restarting
 * primary answers with an error, never a hang).
 */
export function createPrimaryQueries(options: {
  send: (request: QueryRequest) => void;
  /** A history query the primary has not answered by then fails (the route answers 503). */
  historyTimeoutMs: number;
  /** An L2 read not answered by then is a miss (what a Redis command timeout was when workers read it). */
  snapshotTimeoutMs: number;
  /** An L2 read that failed or timed out (the primary counts the Redis outcome of those it makes). */
  snapshotFailed?: () => void;
}): PrimaryQueries {
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  let closed = false;

  function ask<T>(method: PrimaryQuery, pair: string, args: number[], timeoutMs: number): Promise<T> {
    if (closed) return Promise.reject(new Error('queries to the primary closed'));
    return new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`${method} query to the primary timed out after ${timeoutMs} ms`));
      }, timeoutMs);
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
        options.send({ type: 'query-request', id, method, pair, args });
      } catch (error) {
        waiting.delete(id);
        clearTimeout(timer);
        reject(error as Error);
      }
    });
  }
  const history = (method: PrimaryQuery, pair: string, args: number[]) =>
    ask<never>(method, pair, args, options.historyTimeoutMs);
  async function close(): Promise<void> {
    closed = true;
    for (const entry of waiting.values()) entry.reject(new Error('queries to the primary closed'));
    waiting.clear();
  }

  return {
    history: {
      append: () => Promise.reject(new Error('a worker does not write price history')),
      pointAt: (pair, t) => history('pointAt', pair, [t]),
      points: (pair, fromMs, toMs) => history('points', pair, [fromMs, toMs]),
      candles: (pair, fromMs, toMs, intervalMs) => history('candles', pair, [fromMs, toMs, intervalMs]),
      oldest: (pair) => history('oldest', pair, []),
      newest: (pair) => history('newest', pair, []),
      close,
    },
    snapshots: {
      getSnapshot: (pair) =>
        ask<PriceSnapshot | undefined>('snapshot', pair, [], options.snapshotTimeoutMs).catch(() => {
          options.snapshotFailed?.();
          return undefined;
        }),
    },
    receive(message) {
      if (!isQueryResponse(message)) return false;
      const entry = waiting.get(message.id);
      if (entry === undefined) return true; // timed out already
      waiting.delete(message.id);
      if (message.error !== undefined) entry.reject(new Error(message.error));
      else entry.resolve(message.value);
      return true;
    },
    close,
  };
}
