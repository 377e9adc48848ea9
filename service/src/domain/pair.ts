/** A currency pair such as ETH/USDT. `slug` is its URL form (eth-usdt). */
export interface Pair {
  readonly base: string;
  readonly quote: string;
  /** "ETH/USDT" */
  readonly symbol: string;
  /** "eth-usdt": the path segment in /api/v1/prices/:pair and the key in caches. */
  readonly slug: string;
}

const ASSET = /^[A-Z0-9]{2,10}$/;

/** Parses "ETH/USDT" (or "eth-usdt"); returns undefined for anything else. */
export function parsePair(text: string): Pair | undefined {
  const parts = text.trim().toUpperCase().split(/[/-]/);
  if (parts.length !== 2) return undefined;
  const [base, quote] = parts as [string, string];
  if (!ASSET.test(base) || !ASSET.test(quote) || base === quote) return undefined;
  return Object.freeze({
    base,
    quote,
    symbol: `${base}/${quote}`,
    slug: `${base.toLowerCase()}-${quote.toLowerCase()}`,
  });
}
