import { FaultTable } from './faults';
import { PriceWalk } from './price-walk';
import { EXCHANGES, type ExchangeName } from './quotes';

/** Everything the mock remembers between requests; one per server. */
export interface MockState {
  readonly prices: PriceWalk;
  readonly faults: FaultTable;
  readonly counters: Record<ExchangeName, number>;
  /** Feeds Coinbase trade ids and KuCoin book sequences, which only ever grow on the real exchanges. */
  sequence: number;
  /** Binance's X-MBX-USED-WEIGHT-1M: weight used in the current clock minute. */
  readonly binanceWeight: { minute: number; used: number };
  now(): number;
  /** Resolves after `ms`, unless the server closes first (then never: the socket is already gone). */
  delay(ms: number): Promise<void>;
  /** Back to the state at start: no faults, zero counters, starting prices, walking. */
  reset(): void;
  /** Cancels pending delays so that closing the server leaves no timers behind. */
  dispose(): void;
}

export function zeroCounters(): Record<ExchangeName, number> {
  const counters = {} as Record<ExchangeName, number>;
  for (const exchange of EXCHANGES) counters[exchange] = 0;
  return counters;
}

export function createState(tickMs: number): MockState {
  const timers = new Set<NodeJS.Timeout>();
  const state: MockState = {
    prices: new PriceWalk(tickMs),
    faults: new FaultTable(),
    counters: zeroCounters(),
    sequence: 0,
    binanceWeight: { minute: 0, used: 0 },
    now: Date.now,
    delay: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, ms);
        timers.add(timer);
      }),
    reset: () => {
      state.faults.clearAll();
      Object.assign(state.counters, zeroCounters());
      state.prices.reset();
    },
    dispose: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
  return state;
}
