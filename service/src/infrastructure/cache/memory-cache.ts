import NodeCache from 'node-cache';
import type { LocalCache } from '../../application/ports';
import type { PriceSnapshot } from '../../application/price-snapshot';

/**
 * L1: node-cache in every worker. No cloning (useClones: false): snapshots are immutable and read on every
 * request. Entries live for the maximum staleness: past that nothing may be served from them anyway, and a
 * worker that stops hearing from the primary must not serve forever.
 */
export function createMemoryCache(options: { maxStalenessMs: number }): LocalCache & { close(): void } {
  const cache = new NodeCache({
    stdTTL: Math.ceil(options.maxStalenessMs / 1000),
    checkperiod: 60,
    useClones: false,
  });
  return {
    get: (pair) => cache.get<PriceSnapshot>(pair),
    set: (pair, snapshot) => {
      cache.set(pair, snapshot);
    },
    close: () => cache.close(),
  };
}
