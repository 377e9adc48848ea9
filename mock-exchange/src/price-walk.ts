import { ONE } from './decimal';
import { PAIRS, type PairSymbol } from './quotes';

export const START_MIDS: Readonly<Record<PairSymbol, bigint>> = {
  'ETH/USDT': 3_500n * ONE,
  'BTC/USDT': 95_000n * ONE,
};

/** ±1 bp per step, in tenths of a bp: far inside the ±0.5% the service would treat as an outlier. */
const MAX_STEP_TENTHS_OF_BP = 10;
/**
 * Steps are taken lazily when a price is read, catching up on the ticks missed while idle. Capping the
 * catch-up keeps one read after a long pause from jumping more than 20 bps.
 */
const MAX_CATCH_UP_STEPS = 20;

interface WalkEntry {
  mid: bigint;
  walking: boolean;
  lastStepAt: number;
}

export interface PriceState {
  readonly pair: PairSymbol;
  readonly mid: bigint;
  readonly walking: boolean;
}

/** The reference mid per pair, a bounded random walk over time unless a test pins it. */
export class PriceWalk {
  private entries: Record<PairSymbol, WalkEntry>;

  constructor(
    private readonly tickMs: number,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(tickMs) || tickMs < 1) throw new RangeError(`tickMs must be a positive integer`);
    this.entries = this.initialEntries();
  }

  current(pair: PairSymbol): bigint {
    const entry = this.entries[pair];
    if (entry.walking) this.catchUp(entry);
    return entry.mid;
  }

  describe(pair: PairSymbol): PriceState {
    return { pair, mid: this.current(pair), walking: this.entries[pair].walking };
  }

  /** Sets the mid; with walk false it stays exactly there until walking resumes. */
  pin(pair: PairSymbol, mid: bigint, walk: boolean): void {
    this.entries[pair] = { mid, walking: walk, lastStepAt: this.now() };
  }

  setWalking(pair: PairSymbol, walk: boolean): void {
    const entry = this.entries[pair];
    // Without this, resuming would replay every tick missed while pinned.
    if (walk && !entry.walking) entry.lastStepAt = this.now();
    entry.walking = walk;
  }

  reset(): void {
    this.entries = this.initialEntries();
  }

  private initialEntries(): Record<PairSymbol, WalkEntry> {
    const at = this.now();
    const entries = {} as Record<PairSymbol, WalkEntry>;
    for (const pair of PAIRS) entries[pair] = { mid: START_MIDS[pair], walking: true, lastStepAt: at };
    return entries;
  }

  private catchUp(entry: WalkEntry): void {
    const due = Math.floor((this.now() - entry.lastStepAt) / this.tickMs);
    if (due <= 0) return;
    entry.lastStepAt += due * this.tickMs;
    for (let step = 0; step < Math.min(due, MAX_CATCH_UP_STEPS); step += 1) {
      const draw = Math.floor(this.random() * (2 * MAX_STEP_TENTHS_OF_BP + 1)) - MAX_STEP_TENTHS_OF_BP;
      const tenthsOfBp = Math.max(-MAX_STEP_TENTHS_OF_BP, Math.min(MAX_STEP_TENTHS_OF_BP, draw));
      entry.mid += (entry.mid * BigInt(tenthsOfBp)) / 100_000n;
    }
  }
}
