import type { PriceReader } from './price-reader';
import type { PriceSnapshot } from './price-snapshot';

/**
 * Where snapshots enter a serving process (from the primary over IPC, or the local refresher): into L1,
 * then to whoever follows the prices (the stream). Only what L1 now holds is news: an older snapshot
 * arriving late (IPC and L2 race) is kept out of L1 and followers never see it.
 */
export function createPriceFeed(reader: Pick<PriceReader, 'accept' | 'peek'>) {
  const followers = new Set<(snapshot: PriceSnapshot) => void>();
  return {
    publish(snapshot: PriceSnapshot): void {
      reader.accept(snapshot);
      if (reader.peek(snapshot.pair) !== snapshot) return;
      for (const follower of followers) follower(snapshot);
    },
    /** Returns the unsubscribe function. */
    follow(follower: (snapshot: PriceSnapshot) => void): () => void {
      followers.add(follower);
      return () => followers.delete(follower);
    },
  };
}

export type PriceFeed = ReturnType<typeof createPriceFeed>;
