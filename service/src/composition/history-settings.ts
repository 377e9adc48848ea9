import type { Config } from '../config';
import type { InEffectRules } from '../domain/history/price-point';
import type { HistoryRetention } from '../infrastructure/history/memory-history';

/**
 * How long a price stays in effect with no point after it: the maximum staleness. The service publishes a
 * point every round while it runs (and an explicit end once the price passes MAX_STALENESS), so a longer
 * silence means nothing was published, and no price is passed off as in effect through it.
 */
export function historyRules(config: Config): InEffectRules {
  return { maxInEffectMs: config.price.maxStalenessMs };
}

/** How long points and candles are kept (HISTORY_* settings). */
export function historyRetention(config: Config): HistoryRetention {
  return { pointsMs: config.history.pointsRetentionMs, minutesMs: config.history.minutesRetentionMs };
}
