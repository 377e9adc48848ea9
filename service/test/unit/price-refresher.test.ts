import type { LeaseResult, PriceSource, SharedCache, SourceLease } from '../../src/application/ports';
import { createPriceRefresher, type PriceRefresher } from '../../src/application/price-refresher';
import type { PriceSnapshot } from '../../src/application/price-snapshot';
import type { AggregationRules, SourceOutcome } from '../../src/domain/aggregation';
import {
  CircuitOpenError,
  UpstreamHttpError,
  UpstreamRateLimitedError,
  UpstreamTimeoutError,
} from '../../src/domain/errors';
import { parsePair, type Pair } from '../../src/domain/pair';
import type { Quote } from '../../src/domain/quote';
import { createLogger } from '../../src/observability/logger';

/** Refresh interval of every test. BASE is a multiple of it, so BASE starts an epoch. */
const I = 1000;
const BASE = 1_750_000_000_000;
const E0 = BASE / I;

const ETH_USDT = parsePair('ETH/USDT') as Pair;
const logger = createLogger({ level: 'error', service: 'test', silent: true });

// ---------------------------------------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------------------------------------

type Behaviour =
  { readonly bid: string; readonly ask: string; readonly ageMs?: number } | { readonly error: () => Error };

interface FakeSource extends PriceSource {
  /** Date.now() at every fetchQuote call. */
  readonly calls: number[];
  behaviour: Behaviour;
  /** How long fetchQuote takes (fake time). */
  delayMs: number;
}

function fakeSource(name: string, behaviour: Behaviour, delayMs = 0): FakeSource {
  const source: FakeSource = {
    name,
    calls: [],
    behaviour,
    delayMs,
    async fetchQuote(pair: Pair): Promise<Quote> {
      const sentAt = Date.now();
      source.calls.push(sentAt);
      const { behaviour: current, delayMs: delay } = source;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if ('error' in current) throw current.error();
      const now = Date.now();
      return {
        exchange: name,
        pair: pair.slug,
        bid: current.bid,
        ask: current.ask,
        timestampMs: now - (current.ageMs ?? 0),
        timestampSource: 'exchange',
        receivedAtMs: now,
        latencyMs: now - sentAt,
      };
    },
  };
  return source;
}

type SharedMode =
  /** A working Redis: leases with NX semantics (first caller of a key wins, keys never expire). */
  | 'redis'
  /** Redis down: every lease is 'unavailable', reads answer undefined, writes are dropped. */
  | 'down'
  /** Another replica holds every lease and writes its result otherReplicaDelayMs after taking it. */
  | 'other-replica';

class FakeShared implements SharedCache {
  readonly enabled = true;
  readonly leaseKeys: string[] = [];
  readonly leaseHolders = new Map<string, string>();
  readonly results = new Map<string, SourceOutcome>();
  readonly resultPuts: { source: string; pair: string; result: SourceOutcome }[] = [];
  readonly snapshots = new Map<string, PriceSnapshot>();
  readonly snapshotGets: string[] = [];
  readonly snapshotPuts: PriceSnapshot[] = [];
  otherReplicaDelayMs = 60;
  /** What the other replica fetched for a source in an epoch. */
  otherReplicaResult: (source: string, epoch: number) => SourceOutcome = (source, epoch) => ({
    kind: 'failure',
    epoch,
    state: 'error',
    errorCode: `NOTHING_FOR_${source}`,
  });
  failLeases = false;
  /** How long putSnapshot takes (fake time). */
  snapshotWriteDelayMs = 0;

  constructor(readonly mode: SharedMode) {}

  async getSnapshot(pair: string): Promise<PriceSnapshot | undefined> {
    this.snapshotGets.push(pair);
    return this.mode === 'down' ? undefined : this.snapshots.get(pair);
  }

  async putSnapshot(snapshot: PriceSnapshot): Promise<void> {
    if (this.snapshotWriteDelayMs > 0)
      await new Promise((resolve) => setTimeout(resolve, this.snapshotWriteDelayMs));
    this.snapshotPuts.push(snapshot);
    if (this.mode !== 'down') this.snapshots.set(snapshot.pair, snapshot);
  }

  async getSourceResult(source: string, pair: string): Promise<SourceOutcome | undefined> {
    return this.mode === 'down' ? undefined : this.results.get(`${source}|${pair}`);
  }

  async putSourceResult(source: string, pair: string, result: SourceOutcome): Promise<void> {
    this.resultPuts.push({ source, pair, result });
    if (this.mode !== 'down') this.results.set(`${source}|${pair}`, result);
  }

  async acquireLease(lease: SourceLease): Promise<LeaseResult> {
    const key = `lease:${lease.source}:${lease.pair}:${lease.epoch}`;
    this.leaseKeys.push(key);
    if (this.failLeases) throw new Error('connection reset');
    if (this.mode === 'down') return 'unavailable';
    if (this.mode === 'other-replica') {
      if (!this.leaseHolders.has(key)) {
        this.leaseHolders.set(key, 'other');
        const [, source = '', pair = '', epoch = ''] = key.split(':');
        const result = this.otherReplicaResult(source, Number(epoch));
        setTimeout(() => this.results.set(`${source}|${pair}`, result), this.otherReplicaDelayMs);
      }
      return 'held_elsewhere';
    }
    if (this.leaseHolders.has(key)) return 'held_elsewhere';
    this.leaseHolders.set(key, 'me');
    return 'acquired';
  }

  /** Epochs of the leases asked for one source, in order. */
  epochsOf(source: string): number[] {
    return this.leaseKeys
      .filter((key) => key.startsWith(`lease:${source}:`))
      .map((key) => Number(key.split(':')[3]));
  }

  status(): 'up' | 'down' {
    return this.mode === 'down' ? 'down' : 'up';
  }

  async close(): Promise<void> {}
}

function fakeMetrics() {
  const rounds: { pair: string; published: boolean; used: number; states: string[] }[] = [];
  const leases: { source: string; result: LeaseResult }[] = [];
  const quorumConfigs: { min: number; configured: number }[] = [];
  return {
    rounds,
    leases,
    quorumConfigs,
    aggregationRound(
      pair: string,
      published: boolean,
      used: number,
      sources: readonly { exchange: string; state: string }[],
    ) {
      rounds.push({ pair, published, used, states: sources.map((s) => s.state) });
    },
    lease(source: string, result: LeaseResult) {
      leases.push({ source, result });
    },
    quorumConfig(min: number, configured: number) {
      quorumConfigs.push({ min, configured });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------------------

/** How far the refresher's wall clock is behind the timers' clock (ms). */
let skew = 0;
const clock = () => Date.now() - skew;

let running: PriceRefresher[] = [];

function setup(options: {
  sources: FakeSource[];
  shared?: FakeShared;
  rules?: Partial<AggregationRules>;
  pairs?: Pair[];
}) {
  const shared = options.shared ?? new FakeShared('redis');
  const published: PriceSnapshot[] = [];
  const metrics = fakeMetrics();
  const refresher = createPriceRefresher({
    sources: options.sources,
    pairs: options.pairs ?? [ETH_USDT],
    shared,
    rules: { minQuorum: 2, maxDeviationBps: 100, maxSourceAgeMs: 10_000, ...options.rules },
    intervalMs: I,
    publish: (snapshot) => published.push(snapshot),
    metrics,
    logger,
    clock,
  });
  running.push(refresher);
  return { refresher, shared, published, metrics };
}

/** Moves fake time to the absolute epoch-ms `at`, running every timer and promise due on the way. */
async function advanceTo(at: number): Promise<void> {
  const delta = at - Date.now();
  if (delta < 0) throw new Error(`advanceTo(${at}) is ${-delta} ms in the past`);
  await jest.advanceTimersByTimeAsync(delta);
}

/** Starts the refresher and lets its first round finish (fake time does not move if no source waits). */
async function started(refresher: PriceRefresher): Promise<void> {
  let done = false;
  const starting = refresher.start().then(() => {
    done = true;
  });
  while (!done) await jest.advanceTimersByTimeAsync(10);
  await starting;
}

/** Stops a refresher under fake timers: stop() may wait for a round or a fetch that needs time to pass. */
async function stopped(refresher: PriceRefresher): Promise<void> {
  let done = false;
  const stopping = refresher.stop().then(() => {
    done = true;
  });
  for (let i = 0; i < 100 && !done; i++) await jest.advanceTimersByTimeAsync(I);
  await stopping;
}

const quoteOk = (bid: string, ask: string, ageMs = 0): Behaviour => ({ bid, ask, ageMs });

beforeEach(() => {
  skew = 0;
  jest.useFakeTimers({ now: BASE });
});

afterEach(async () => {
  for (const refresher of running) await stopped(refresher);
  running = [];
  jest.useRealTimers();
});

// ---------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------

describe('createPriceRefresher: scheduling', () => {
  test('When started mid-epoch, then a first round runs right away and then exactly one fetch per source per interval', async () => {
    jest.setSystemTime(BASE + 400);
    const sources = [
      fakeSource('binance', quoteOk('3000', '3001')),
      fakeSource('okx', quoteOk('3000', '3002')),
    ];
    const { refresher, shared, published } = setup({ sources });

    await refresher.start(); // instant sources: the first round completes without fake time moving
    expect(Date.now()).toBe(BASE + 400);
    expect(sources.map((s) => s.calls)).toEqual([[BASE + 400], [BASE + 400]]);
    expect(published).toHaveLength(1);

    // Nothing more until the next wall-clock boundary...
    await advanceTo(BASE + 999);
    expect(sources.map((s) => s.calls.length)).toEqual([1, 1]);
    // ...then one round on every boundary: 10 boundaries (BASE+1000 .. BASE+10000) after the first round.
    await advanceTo(BASE + 10 * I + 400);
    expect(sources.map((s) => s.calls.length)).toEqual([11, 11]);
    const boundaries = Array.from({ length: 10 }, (_, k) => BASE + (k + 1) * I);
    for (const source of sources) expect(source.calls).toEqual([BASE + 400, ...boundaries]);
    // Each epoch's lease asked once, in order, with no gap.
    const epochs = Array.from({ length: 11 }, (_, k) => E0 + k);
    expect(shared.epochsOf('binance')).toEqual(epochs);
    expect(shared.epochsOf('okx')).toEqual(epochs);
    expect(published).toHaveLength(11);

    await advanceTo(BASE + 11 * I - 1);
    expect(sources.map((s) => s.calls.length)).toEqual([11, 11]);
    await advanceTo(BASE + 11 * I);
    expect(sources.map((s) => s.calls.length)).toEqual([12, 12]);
  });

  test('When a timer fires slightly before the wall-clock boundary (clock lagging the timers), then no epoch is skipped or repeated', async () => {
    jest.setSystemTime(BASE + 400);
    // Redis down: every round fetches for itself, so a repeated round would show up as an extra fetch.
    const sources = [
      fakeSource('binance', quoteOk('3000', '3001'), 5),
      fakeSource('okx', quoteOk('3000', '3002'), 5),
    ];
    const { refresher, shared, published } = setup({ sources, shared: new FakeShared('down') });
    await started(refresher);

    for (let k = 1; k <= 10; k++) {
      // The wall clock falls 1 ms further behind the monotonic timers after the timer was set, so when it
      // fires the refresher's clock reads 1 ms before the boundary it was set for.
      skew = k;
      await advanceTo(BASE + k * I + k + 10);
      expect(sources.map((s) => s.calls.length)).toEqual([k + 1, k + 1]);
    }
    const epochs = Array.from({ length: 11 }, (_, k) => E0 + k);
    expect(shared.epochsOf('binance')).toEqual(epochs);
    expect(shared.epochsOf('okx')).toEqual(epochs);
    expect(published).toHaveLength(11);
  });

  test('When a timer fires more than an interval late, then the round runs for the current epoch, not the missed one', async () => {
    jest.setSystemTime(BASE + 400);
    const sources = [
      fakeSource('binance', quoteOk('3000', '3001')),
      fakeSource('okx', quoteOk('3000', '3002')),
    ];
    const { refresher, shared } = setup({ sources });
    await started(refresher);

    // The wall clock jumps 5.5 intervals ahead of the timers (e.g. an NTP step forward).
    skew = -5500;
    await advanceTo(BASE + I);
    expect(shared.epochsOf('binance')).toEqual([E0, E0 + 6]);
    await advanceTo(BASE + 2 * I);
    expect(shared.epochsOf('binance')).toEqual([E0, E0 + 6, E0 + 7]);
  });

  // Were the next epoch always lastEpoch + 1, a backward step of the wall clock would stop every refresh for
  // as long as the step; schedule() restarts the count from the current epoch instead.
  test('When the wall clock steps back 30 s (NTP step, VM resume), then the refresher keeps refreshing once per interval', async () => {
    jest.setSystemTime(BASE + 400);
    const sources = [fakeSource('binance', quoteOk('3000', '3001'))];
    const { refresher, published } = setup({ sources, shared: new FakeShared('down') });
    await started(refresher);
    await advanceTo(BASE + I + 10);
    expect(sources[0]?.calls).toHaveLength(2);

    skew = 30_000; // the wall clock now reads 30 s earlier than before
    await advanceTo(BASE + 5 * I + 10);
    // The timer set at BASE+1000 still fires at BASE+2000 (3 calls); the ones after must keep coming.
    expect(sources[0]?.calls.length).toBeGreaterThanOrEqual(5);
    expect(published.length).toBeGreaterThanOrEqual(5);
  });

  // start() runs its first round mid-epoch; when that round is still running at the next boundary (a source
  // slower than the time left in the epoch), only the source still in flight sits the boundary out: skipping
  // the whole round would leave the first full interval after start with no fetch at all.
  test('When the first round, started late in an epoch, is still running at the boundary, then the fast sources are still fetched for that epoch', async () => {
    jest.setSystemTime(BASE + 900);
    const fast = fakeSource('binance', quoteOk('3000', '3001'));
    const slow = fakeSource('okx', quoteOk('3000', '3002'), 200); // in flight until BASE+1100
    const { refresher } = setup({
      sources: [fast, slow],
      shared: new FakeShared('down'),
      rules: { minQuorum: 1 },
    });
    void refresher.start();
    await advanceTo(BASE + 2 * I + 10);
    expect(slow.calls).toEqual([BASE + 900, BASE + 2 * I]); // in flight at BASE+1000: skipping it is by design
    expect(fast.calls).toEqual([BASE + 900, BASE + I, BASE + 2 * I]);
  });

  test('When a source takes longer than the interval, then it is not called again while in flight and rounds publish after 80% of the interval with the others', async () => {
    const fastA = fakeSource('binance', quoteOk('3000', '3001'));
    const fastB = fakeSource('okx', quoteOk('3000', '3003'));
    const slow = fakeSource('kraken', quoteOk('3000', '3002'), 2.5 * I);
    const { refresher, published } = setup({ sources: [fastA, fastB, slow] });

    void refresher.start();
    await advanceTo(BASE + 0.8 * I - 1);
    expect(published).toHaveLength(0);
    await advanceTo(BASE + 0.8 * I);
    expect(published).toHaveLength(1);
    const first = published[0] as PriceSnapshot;
    expect(first.updatedAtMs).toBe(BASE + 800);
    expect(first.price?.price).toBe('3001'); // median of 3000.5 and 3001.5
    expect(first.quorum).toEqual({ used: 2, configured: 3, min: 2 });
    expect(first.sources.map((s) => [s.exchange, s.state, s.error])).toEqual([
      ['binance', 'used', undefined],
      ['okx', 'used', undefined],
      ['kraken', 'error', 'NO_RESULT_YET'],
    ]);

    // Next rounds: the slow source is still in flight, so only the fast ones are asked and nothing is
    // waited for: the round publishes at once.
    await advanceTo(BASE + 2 * I + 10);
    expect(slow.calls).toEqual([BASE]);
    expect(fastA.calls).toEqual([BASE, BASE + I, BASE + 2 * I]);
    expect(fastB.calls).toEqual([BASE, BASE + I, BASE + 2 * I]);
    expect(published.map((s) => s.updatedAtMs)).toEqual([BASE + 800, BASE + I, BASE + 2 * I]);

    // The slow fetch ends at BASE+2500; the round at BASE+3000 asks it again and uses the result it brought.
    await advanceTo(BASE + 3 * I + 0.8 * I);
    expect(slow.calls).toEqual([BASE, BASE + 3 * I]);
    expect(published.map((s) => s.updatedAtMs)).toEqual([BASE + 800, BASE + I, BASE + 2 * I, BASE + 3800]);
    const fourth = published[3] as PriceSnapshot;
    expect(fourth.quorum.used).toBe(3);
    expect(fourth.price?.price).toBe('3001');
    expect(fourth.sources[2]).toMatchObject({ exchange: 'kraken', state: 'used', timestampMs: BASE + 2500 });

    // Not asked again until that second fetch ends (BASE+5500).
    await advanceTo(BASE + 5 * I + 900);
    expect(slow.calls).toEqual([BASE, BASE + 3 * I]);
    expect(fastA.calls).toHaveLength(6);
    await advanceTo(BASE + 6 * I);
    expect(slow.calls).toEqual([BASE, BASE + 3 * I, BASE + 6 * I]);
  });

  test('When stop() is called during a round, then it waits for the round and no fetch or publish happens afterwards', async () => {
    const sources = [
      fakeSource('binance', quoteOk('3000', '3001'), 300),
      fakeSource('okx', quoteOk('3000', '3002'), 300),
    ];
    const shared = new FakeShared('redis');
    shared.snapshotWriteDelayMs = 50; // the round ends when its snapshot is stored, 50 ms after the fetches
    const { refresher, published } = setup({ sources, shared });
    void refresher.start();
    await advanceTo(BASE + I + 100); // second round in flight since BASE+1000
    expect(sources.map((s) => s.calls.length)).toEqual([2, 2]);
    expect(published).toHaveLength(1);

    let done = false;
    const stopping = refresher.stop().then(() => {
      done = true;
    });
    await advanceTo(BASE + I + 349);
    expect(done).toBe(false);
    await advanceTo(BASE + I + 350);
    expect(done).toBe(true);
    await stopping;
    // The in-flight round was finished: published and stored.
    expect(published).toHaveLength(2);
    expect(shared.snapshotPuts).toHaveLength(2);

    // Only the round's 80% timer (BASE+1800) was left; the next round's timer (BASE+2000) was cleared.
    await advanceTo(BASE + 2 * I - 1);
    expect(jest.getTimerCount()).toBe(0);
    await advanceTo(BASE + 20 * I);
    expect(sources.map((s) => s.calls.length)).toEqual([2, 2]);
    expect(published).toHaveLength(2);
  });

  test('When stop() is called while a slow fetch outlives its round, then stop() waits for that fetch too', async () => {
    const fast = fakeSource('binance', quoteOk('3000', '3001'));
    const slow = fakeSource('okx', quoteOk('3000', '3002'), 2500);
    const { refresher, published } = setup({ sources: [fast, slow], rules: { minQuorum: 1 } });
    void refresher.start();
    await advanceTo(BASE + 900); // the round published at BASE+800 without the slow source
    expect(published).toHaveLength(1);

    let done = false;
    const stopping = refresher.stop().then(() => {
      done = true;
    });
    await advanceTo(BASE + 2499);
    expect(done).toBe(false);
    await advanceTo(BASE + 2500);
    expect(done).toBe(true);
    await stopping;

    await advanceTo(BASE + 10 * I);
    expect(fast.calls).toEqual([BASE]);
    expect(slow.calls).toEqual([BASE]);
    expect(published).toHaveLength(1);
  });
});

describe('createPriceRefresher: the published snapshot', () => {
  // Mids 2999.8, 3000.35, 2999.95, 3000.5: the median is (2999.95 + 3000.35) / 2 = 3000.15 exactly, where
  // floats give 3000.1499999999996.
  const QUOTES: Record<string, { bid: string; ask: string; ageMs: number }> = {
    kraken: { bid: '2999.75', ask: '2999.85', ageMs: 300 },
    binance: { bid: '3000.3', ask: '3000.4', ageMs: 100 },
    okx: { bid: '2999.9', ask: '3000', ageMs: 200 },
    coinbase: { bid: '3000.45', ask: '3000.55', ageMs: 50 },
  };
  const ORDER = ['kraken', 'binance', 'okx', 'coinbase'];

  test('When all sources answer, then the price is the exact decimal median with quorum, sources in configured order, and one publish per round', async () => {
    const sources = ORDER.map((name) => {
      const q = QUOTES[name] as { bid: string; ask: string; ageMs: number };
      return fakeSource(name, quoteOk(q.bid, q.ask, q.ageMs));
    });
    const { refresher, shared, published, metrics } = setup({ sources, rules: { minQuorum: 3 } });
    expect(metrics.quorumConfigs).toEqual([{ min: 3, configured: 4 }]);

    await refresher.start();
    expect(published).toHaveLength(1);
    const snapshot = published[0] as PriceSnapshot;
    expect(snapshot).toEqual({
      v: 1,
      pair: 'eth-usdt',
      symbol: 'ETH/USDT',
      price: {
        price: '3000.15',
        bid: '3000.1', // median of 2999.75, 2999.9, 3000.3, 3000.45
        ask: '3000.2', // median of 2999.85, 3000, 3000.4, 3000.55
        confidence: '0.2375', // max(p50 - p25, p75 - p50) = max(0.2375, 0.2375)
        timestampMs: BASE - 300, // the oldest accepted quote (kraken)
      },
      updatedAtMs: BASE,
      quorum: { used: 4, configured: 4, min: 3 },
      sources: [
        {
          exchange: 'kraken',
          state: 'used',
          price: '2999.8',
          bid: '2999.75',
          ask: '2999.85',
          timestampMs: BASE - 300,
          timestampSource: 'exchange',
          latencyMs: 0,
          deviationBps: '1.17',
        },
        {
          exchange: 'binance',
          state: 'used',
          price: '3000.35',
          bid: '3000.3',
          ask: '3000.4',
          timestampMs: BASE - 100,
          timestampSource: 'exchange',
          latencyMs: 0,
          deviationBps: '0.67',
        },
        {
          exchange: 'okx',
          state: 'used',
          price: '2999.95',
          bid: '2999.9',
          ask: '3000',
          timestampMs: BASE - 200,
          timestampSource: 'exchange',
          latencyMs: 0,
          deviationBps: '0.67',
        },
        {
          exchange: 'coinbase',
          state: 'used',
          price: '3000.5',
          bid: '3000.45',
          ask: '3000.55',
          timestampMs: BASE - 50,
          timestampSource: 'exchange',
          latencyMs: 0,
          deviationBps: '1.17',
        },
      ],
    });
    expect(snapshot.sources.every((s) => s.error === undefined)).toBe(true);
    expect(refresher.snapshot('eth-usdt')).toBe(snapshot);
    expect(shared.snapshotPuts).toEqual([snapshot]);
    // A round with a quorum does not need the shared snapshot.
    expect(shared.snapshotGets).toEqual([]);
    // This replica won every lease, so it shared every result.
    expect(shared.resultPuts.map((p) => [p.source, p.pair, p.result.epoch, p.result.kind])).toEqual(
      ORDER.map((name) => [name, 'eth-usdt', E0, 'quote']),
    );
    expect(metrics.rounds).toEqual([
      { pair: 'eth-usdt', published: true, used: 4, states: Array(4).fill('used') },
    ]);

    await advanceTo(BASE + 3 * I + 500);
    expect(published.map((s) => s.updatedAtMs)).toEqual([BASE, BASE + I, BASE + 2 * I, BASE + 3 * I]);
    expect(published.map((s) => s.price?.price)).toEqual(Array(4).fill('3000.15'));
    expect(shared.snapshotPuts).toEqual(published);
    expect(metrics.rounds).toHaveLength(4);
    expect(metrics.leases).toHaveLength(16);
    expect(metrics.leases.every((l) => l.result === 'acquired')).toBe(true);
  });

  test('When two pairs are configured, then each round publishes one snapshot per pair with its own prices', async () => {
    const BTC_USDT = parsePair('BTC/USDT') as Pair;
    const byPair = (name: string, eth: [string, string], btc: [string, string]): FakeSource => {
      const source = fakeSource(name, quoteOk('0', '0'));
      const fetch = source.fetchQuote.bind(source);
      source.fetchQuote = async (pair) => {
        const [bid, ask] = pair.slug === 'eth-usdt' ? eth : btc;
        source.behaviour = quoteOk(bid, ask);
        return fetch(pair);
      };
      return source;
    };
    const sources = [
      byPair('binance', ['3000', '3001'], ['60000', '60010']),
      byPair('okx', ['3002', '3003'], ['60020', '60030']),
    ];
    const { refresher, published } = setup({ sources, pairs: [ETH_USDT, BTC_USDT] });
    await refresher.start();
    await advanceTo(BASE + I);
    expect(published.map((s) => [s.pair, s.symbol, s.updatedAtMs, s.price?.price])).toEqual([
      ['eth-usdt', 'ETH/USDT', BASE, '3001.5'],
      ['btc-usdt', 'BTC/USDT', BASE, '60015'],
      ['eth-usdt', 'ETH/USDT', BASE + I, '3001.5'],
      ['btc-usdt', 'BTC/USDT', BASE + I, '60015'],
    ]);
    expect(sources.map((s) => s.calls.length)).toEqual([4, 4]);
    expect(refresher.snapshot('btc-usdt')?.price?.price).toBe('60015');
  });
});

describe('createPriceRefresher: leases', () => {
  test('When another replica holds every lease, then no call reaches the sources and its results for this epoch are used', async () => {
    const shared = new FakeShared('other-replica');
    // The other replica's quotes move by 1 each epoch; its result for the epoch before start is far off,
    // so using it instead of waiting for this epoch's would show.
    shared.otherReplicaResult = (source, epoch) => {
      const base = 3000 + (epoch - E0) + (source === 'okx' ? 2 : 0);
      return {
        kind: 'quote',
        epoch,
        quote: {
          exchange: source,
          pair: 'eth-usdt',
          bid: String(base),
          ask: String(base + 1),
          timestampMs: epoch * I + 40,
          timestampSource: 'exchange',
          receivedAtMs: epoch * I + 50,
          latencyMs: 50,
        },
      };
    };
    for (const name of ['binance', 'okx']) {
      const previous = shared.otherReplicaResult(name, E0 - 1) as { quote: Quote };
      shared.results.set(`${name}|eth-usdt`, {
        kind: 'quote',
        epoch: E0 - 1,
        quote: { ...previous.quote, bid: '1000', ask: '1001' },
      });
    }
    const sources = [fakeSource('binance', quoteOk('1', '2')), fakeSource('okx', quoteOk('1', '2'))];
    const { refresher, published, metrics } = setup({ sources, shared });

    void refresher.start();
    await advanceTo(BASE + 2 * I + 900);
    expect(sources.map((s) => s.calls.length)).toEqual([0, 0]);
    expect(published).toHaveLength(3);
    // binance 3000/3001 (mid 3000.5), okx 3002/3003 (mid 3002.5), +1 per epoch.
    expect(published.map((s) => s.price?.price)).toEqual(['3001.5', '3002.5', '3003.5']);
    expect(published.map((s) => s.price?.timestampMs)).toEqual([BASE + 40, BASE + I + 40, BASE + 2 * I + 40]);
    expect(published.map((s) => s.quorum.used)).toEqual([2, 2, 2]);
    // Each round waited for the other replica's write (60 ms after the lease), not for 80% of the interval.
    for (const [k, snapshot] of published.entries()) {
      expect(snapshot.updatedAtMs).toBeGreaterThanOrEqual(BASE + k * I + 60);
      expect(snapshot.updatedAtMs).toBeLessThan(BASE + k * I + 200);
    }
    expect(shared.resultPuts).toEqual([]);
    expect(metrics.leases).toHaveLength(6);
    expect(metrics.leases.every((l) => l.result === 'held_elsewhere')).toBe(true);
  });

  test('When Redis is down (lease unavailable), then the refresher fetches for itself every interval and shares nothing', async () => {
    const sources = [
      fakeSource('binance', quoteOk('3000', '3001')),
      fakeSource('okx', quoteOk('3002', '3003')),
    ];
    const { refresher, shared, published, metrics } = setup({ sources, shared: new FakeShared('down') });
    await refresher.start();
    await advanceTo(BASE + 4 * I);
    const times = [BASE, BASE + I, BASE + 2 * I, BASE + 3 * I, BASE + 4 * I];
    expect(sources.map((s) => s.calls)).toEqual([times, times]);
    expect(metrics.leases).toHaveLength(10);
    expect(metrics.leases.every((l) => l.result === 'unavailable')).toBe(true);
    expect(shared.resultPuts).toEqual([]);
    expect(published.map((s) => s.price?.price)).toEqual(Array(5).fill('3001.5'));
  });

  test('When acquiring the lease throws, then it counts as unavailable and the refresher fetches for itself', async () => {
    const shared = new FakeShared('redis');
    shared.failLeases = true;
    const sources = [
      fakeSource('binance', quoteOk('3000', '3001')),
      fakeSource('okx', quoteOk('3002', '3003')),
    ];
    const { refresher, published, metrics } = setup({ sources, shared });
    await refresher.start();
    await advanceTo(BASE + 2 * I);
    expect(sources.map((s) => s.calls.length)).toEqual([3, 3]);
    expect(metrics.leases.map((l) => l.result)).toEqual(Array(6).fill('unavailable'));
    expect(shared.resultPuts).toEqual([]);
    expect(published.map((s) => s.price?.price)).toEqual(['3001.5', '3001.5', '3001.5']);
  });
});

describe('createPriceRefresher: no quorum', () => {
  test('When a round falls below the quorum, then the previous good price is kept with the current source states, and failures map to states', async () => {
    const sources = [
      fakeSource('binance', quoteOk('3000', '3001')),
      fakeSource('okx', quoteOk('3000', '3002')),
      fakeSource('kraken', quoteOk('3000', '3003')),
      fakeSource('coinbase', quoteOk('3000', '3004')),
      fakeSource('bybit', quoteOk('3000', '3005')),
      fakeSource('kucoin', quoteOk('3000', '3006')),
    ];
    const { refresher, published, metrics } = setup({ sources, rules: { minQuorum: 3 } });
    await refresher.start();
    const good = published[0] as PriceSnapshot;
    expect(good.price).toEqual({
      price: '3001.75',
      bid: '3000',
      ask: '3003.5',
      confidence: '0.625',
      timestampMs: BASE,
    });

    const [binance, okx, kraken, coinbase, bybit, kucoin] = sources as [
      FakeSource,
      FakeSource,
      FakeSource,
      FakeSource,
      FakeSource,
      FakeSource,
    ];
    binance.behaviour = { error: () => new CircuitOpenError('binance') };
    okx.behaviour = { error: () => new UpstreamRateLimitedError(5000, 429, 'too many requests') };
    kraken.behaviour = { error: () => new UpstreamHttpError(503) };
    coinbase.behaviour = { error: () => new UpstreamTimeoutError('timed out after 2000 ms') };
    bybit.behaviour = { error: () => new TypeError('not an AppError') };
    kucoin.behaviour = quoteOk('3100', '3101'); // alone, it must not become the price
    await advanceTo(BASE + I);

    expect(published).toHaveLength(2);
    const kept = published[1] as PriceSnapshot;
    expect(kept.price).toEqual(good.price);
    expect(kept.updatedAtMs).toBe(BASE + I);
    expect(kept.quorum).toEqual({ used: 1, configured: 6, min: 3 });
    expect(kept.sources.map((s) => [s.exchange, s.state, s.error])).toEqual([
      ['binance', 'circuit_open', 'UPSTREAM_CIRCUIT_OPEN'],
      ['okx', 'rate_limited', 'UPSTREAM_RATE_LIMITED'],
      ['kraken', 'error', 'UPSTREAM_HTTP_STATUS'],
      ['coinbase', 'error', 'UPSTREAM_TIMEOUT'],
      ['bybit', 'error', 'INTERNAL'],
      ['kucoin', 'used', undefined],
    ]);
    expect(kept.sources[5]).toMatchObject({
      price: '3100.5',
      bid: '3100',
      ask: '3101',
      timestampMs: BASE + I,
    });
    expect(metrics.rounds.map((r) => [r.published, r.used])).toEqual([
      [true, 6],
      [false, 1],
    ]);

    // Still below quorum a round later: the same kept price, not a copy drifting with time.
    await advanceTo(BASE + 2 * I);
    expect((published[2] as PriceSnapshot).price).toEqual(good.price);

    // The quorum comes back: a fresh price again.
    binance.behaviour = quoteOk('3100', '3101');
    okx.behaviour = quoteOk('3100', '3103');
    await advanceTo(BASE + 3 * I);
    const back = published[3] as PriceSnapshot;
    expect(back.price).toMatchObject({ price: '3100.5', timestampMs: BASE + 3 * I }); // 3100.5, 3100.5, 3101.5
    expect(back.quorum).toEqual({ used: 3, configured: 6, min: 3 });
  });

  test('When a cold replica has no previous snapshot and no quorum on its first round, then it keeps the price of the shared snapshot', async () => {
    const shared = new FakeShared('redis');
    const lastGood: PriceSnapshot = {
      v: 1,
      pair: 'eth-usdt',
      symbol: 'ETH/USDT',
      price: { price: '2999.5', bid: '2999', ask: '3000', confidence: '0.25', timestampMs: BASE - 4000 },
      updatedAtMs: BASE - 3900,
      quorum: { used: 3, configured: 3, min: 2 },
      sources: [],
    };
    shared.snapshots.set('eth-usdt', lastGood);
    const sources = [
      fakeSource('binance', { error: () => new CircuitOpenError('binance') }),
      fakeSource('okx', { error: () => new UpstreamHttpError(502) }),
      fakeSource('kraken', quoteOk('3000', '3001')),
    ];
    const { refresher, published } = setup({ sources, shared });

    await refresher.start();
    expect(shared.snapshotGets).toEqual(['eth-usdt']);
    const first = published[0] as PriceSnapshot;
    expect(first.price).toEqual(lastGood.price);
    expect(first.updatedAtMs).toBe(BASE);
    expect(first.quorum).toEqual({ used: 1, configured: 3, min: 2 });
    expect(first.sources.map((s) => s.state)).toEqual(['circuit_open', 'error', 'used']);

    // Later rounds keep it from memory: the shared snapshot is not read again.
    await advanceTo(BASE + 2 * I);
    expect(shared.snapshotGets).toEqual(['eth-usdt']);
    expect(published.map((s) => s.price)).toEqual([lastGood.price, lastGood.price, lastGood.price]);
  });

  test('When there is no quorum and no snapshot anywhere, then the snapshot has no price but the source states', async () => {
    const sources = [
      fakeSource('binance', { error: () => new UpstreamHttpError(500) }),
      fakeSource('okx', { error: () => new UpstreamHttpError(500) }),
    ];
    const { refresher, shared, published } = setup({ sources });
    await refresher.start();
    expect(shared.snapshotGets).toEqual(['eth-usdt']);
    const snapshot = published[0] as PriceSnapshot;
    expect(snapshot.price).toBeUndefined();
    expect(snapshot.quorum).toEqual({ used: 0, configured: 2, min: 2 });
    expect(snapshot.sources.map((s) => s.error)).toEqual(['UPSTREAM_HTTP_STATUS', 'UPSTREAM_HTTP_STATUS']);
  });
});
