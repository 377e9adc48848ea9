/**
 * The true band of the mock exchange over time. The suite pins the reference mid (walk off) and records
 * every pin here; the band at a moment is the span of the honest exchanges' mids (the reference with each
 * exchange's ±1..3 bp offset, rounded to the cent, as the mock computes them: expectedQuote). A served
 * median of any subset of honest mids lies inside it; a spiked source's price does not.
 *
 * A price's `timestamp` is its oldest accepted source timestamp (exchange clock, or the replica's receive
 * time), and its sources were fetched within about one refresh round after it, so a price is judged against
 * every pin in force from `before` ms before its timestamp to `after` ms after it.
 */
import { EXCHANGES, expectedQuote } from '../../../mock-exchange/src/mock-exchange';

interface Pin {
  readonly from: number;
  readonly low: number;
  readonly high: number;
  readonly mid: string;
}

export function bandOf(mid: string): { low: number; high: number } {
  const mids = EXCHANGES.map((exchange) => Number(expectedQuote(exchange, mid).mid));
  return { low: Math.min(...mids), high: Math.max(...mids) };
}

export class PriceTimeline {
  private readonly pins: Pin[] = [];

  constructor(
    private readonly before: number,
    private readonly after: number,
  ) {}

  /** Call just before the mock is told the new mid (the old one may still be served until it is). */
  pin(mid: string, at = Date.now()): void {
    this.pins.push({ from: at, ...bandOf(mid), mid });
  }

  /** The mids in force over [t - before, t + after]. */
  midsAround(t: number): string[] {
    return this.window(t).map((p) => p.mid);
  }

  private window(t: number): Pin[] {
    const lo = t - this.before;
    const hi = t + this.after;
    const result: Pin[] = [];
    for (let i = 0; i < this.pins.length; i += 1) {
      const pin = this.pins[i] as Pin;
      const until = this.pins[i + 1]?.from ?? Infinity;
      if (pin.from <= hi && until >= lo) result.push(pin);
    }
    return result;
  }

  readonly judge = (price: number, timestampMs: number): boolean => {
    const pins = this.window(timestampMs);
    if (pins.length === 0) return false;
    const eps = 1e-9;
    const low = Math.min(...pins.map((p) => p.low));
    const high = Math.max(...pins.map((p) => p.high));
    return price >= low - eps && price <= high + eps;
  };
}
