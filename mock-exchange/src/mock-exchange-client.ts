import type { Fault } from './faults';
import type { ExchangeName, PairSymbol } from './quotes';

export type FaultTarget = ExchangeName | '*';

export interface PriceInfo {
  readonly pair: PairSymbol;
  /** At least two decimals, no further trailing zeros: "3500.00". */
  readonly mid: string;
  readonly walk: boolean;
}

export interface MockExchangeClient {
  health(): Promise<boolean>;
  counters(): Promise<Record<ExchangeName, number>>;
  reset(): Promise<void>;
  faults(): Promise<Record<ExchangeName, Fault | null>>;
  setFault(exchange: FaultTarget, fault: Fault): Promise<void>;
  clearFault(exchange: FaultTarget): Promise<void>;
  /** Sets the reference mid of a pair ("ETH/USDT"); pinned (no walk) unless `walk` is true. */
  setPrice(pair: string, mid: string, walk?: boolean): Promise<void>;
  /** Resumes (or with false stops) the random walk of one pair, or of every pair. */
  setWalk(walk: boolean, pair?: string): Promise<void>;
  price(pair: string): Promise<string>;
}

/** The mock's control API over real HTTP, for tests and scripts. Throws on any non-2xx answer. */
export function mockExchangeClient(url: string): MockExchangeClient {
  const base = `${url.replace(/\/+$/, '')}/__control`;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`mock exchange ${method} ${path} → ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  return {
    health: async () => (await call<{ ok: boolean }>('GET', '/health')).ok,
    counters: () => call('GET', '/counters'),
    reset: async () => {
      await call('POST', '/reset');
    },
    faults: () => call('GET', '/faults'),
    setFault: async (exchange, fault) => {
      await call('PUT', `/faults/${encodeURIComponent(exchange)}`, fault);
    },
    clearFault: async (exchange) => {
      await call('DELETE', `/faults/${encodeURIComponent(exchange)}`);
    },
    setPrice: async (pair, mid, walk = false) => {
      await call('PUT', '/price', { pair, mid, walk });
    },
    setWalk: async (walk, pair) => {
      await call('PUT', '/price', pair === undefined ? { walk } : { pair, walk });
    },
    price: async (pair) => (await call<PriceInfo>('GET', `/price?pair=${encodeURIComponent(pair)}`)).mid,
  };
}
