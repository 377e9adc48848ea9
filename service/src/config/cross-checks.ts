import type { Config } from './config-table';
import { splitList } from './settings/lists';

/**
 * Rules between settings. Each runs only when every variable it reads parsed on its own, so one run
 * reports every problem without a cross-check repeating a field's own. The checks read Config (in its units)
 * and, where it matters whether a variable was given at all, the raw environment.
 */
interface CrossCheck {
  readonly reads: readonly string[];
  readonly check: (config: Config, env: Readonly<Record<string, string | undefined>>) => string | undefined;
}

const CROSS_CHECKS: readonly CrossCheck[] = [
  {
    reads: ['MIN_QUORUM'],
    check: ({ sources, price }) =>
      sources.length > 0 && price.minQuorum > sources.length
        ? `MIN_QUORUM: ${price.minQuorum} is more than the ${sources.length} configured source(s)`
        : undefined,
  },
  {
    reads: ['MAX_STALENESS', 'CACHE_TTL'],
    check: ({ price }) =>
      price.maxStalenessMs < price.freshnessMs
        ? `MAX_STALENESS: ${price.maxStalenessMs / 1000}s must be at least CACHE_TTL (${price.freshnessMs / 1000}s)`
        : undefined,
  },
  {
    reads: ['REFRESH_INTERVAL_MS', 'CACHE_TTL'],
    check: ({ price }) =>
      price.refreshIntervalMs >= price.freshnessMs
        ? `REFRESH_INTERVAL_MS: ${price.refreshIntervalMs} must be shorter than CACHE_TTL (${price.freshnessMs} ms) or prices go stale between refreshes`
        : undefined,
  },
  {
    // The price is as old as its oldest accepted quote: a quote older than CACHE_TTL could only ever make a
    // stale price. Equal is allowed (the price is born at the edge of fresh): an operator may trade stale
    // answers for quorum on purpose. The default (when unset) is always below CACHE_TTL.
    reads: ['MAX_SOURCE_AGE_MS', 'CACHE_TTL', 'REFRESH_INTERVAL_MS'],
    check: ({ price }, env) =>
      env.MAX_SOURCE_AGE_MS !== undefined && price.maxSourceAgeMs > price.freshnessMs
        ? `MAX_SOURCE_AGE_MS: ${price.maxSourceAgeMs} must not exceed CACHE_TTL (${price.freshnessMs} ms)`
        : undefined,
  },
  {
    reads: ['DRAIN_DELAY_MS', 'SHUTDOWN_TIMEOUT_MS'],
    check: ({ drainDelayMs, shutdownTimeoutMs }) =>
      drainDelayMs >= shutdownTimeoutMs
        ? `DRAIN_DELAY_MS: ${drainDelayMs} must be shorter than SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs})`
        : undefined,
  },
  {
    // The grace starts when the listener closes, after the drain delay; in-flight requests need time after it.
    reads: ['DRAIN_IDLE_GRACE_MS', 'DRAIN_DELAY_MS', 'SHUTDOWN_TIMEOUT_MS'],
    check: ({ drainIdleGraceMs, drainDelayMs, shutdownTimeoutMs }) =>
      drainIdleGraceMs > 0 && drainDelayMs + drainIdleGraceMs >= shutdownTimeoutMs
        ? `DRAIN_IDLE_GRACE_MS: ${drainIdleGraceMs} plus DRAIN_DELAY_MS (${drainDelayMs}) must be shorter than SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs})`
        : undefined,
  },
  {
    reads: ['REQUEST_TIMEOUT_MS', 'HEADERS_TIMEOUT_MS'],
    check: ({ limits }) =>
      limits.requestTimeoutMs < limits.headersTimeoutMs
        ? `REQUEST_TIMEOUT_MS: ${limits.requestTimeoutMs} must be at least HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs})`
        : undefined,
  },
  {
    reads: ['PORT', 'METRICS_PORT'],
    check: ({ port, metricsPort }) =>
      port !== 0 && port === metricsPort ? 'METRICS_PORT: must differ from PORT' : undefined,
  },
  {
    reads: ['STREAM_MAX_SUBSCRIBERS_PER_CLIENT', 'STREAM_MAX_SUBSCRIBERS_PER_WORKER'],
    check: ({ stream }) =>
      stream.maxSubscribersPerClient > stream.maxSubscribersPerWorker
        ? `STREAM_MAX_SUBSCRIBERS_PER_CLIENT: ${stream.maxSubscribersPerClient} is more than STREAM_MAX_SUBSCRIBERS_PER_WORKER (${stream.maxSubscribersPerWorker})`
        : undefined,
  },
  {
    reads: ['STREAM_HEARTBEAT_MS', 'STREAM_MAX_LIFETIME_MS'],
    check: ({ stream }) =>
      stream.heartbeatMs >= stream.maxLifetimeMs
        ? `STREAM_HEARTBEAT_MS: ${stream.heartbeatMs} must be shorter than STREAM_MAX_LIFETIME_MS (${stream.maxLifetimeMs})`
        : undefined,
  },
  {
    // Invalid entries are reported on their own; this is for none given at all.
    reads: ['TRUSTED_PROXY_HOPS'],
    check: ({ rateLimit }, env) =>
      rateLimit.trustedProxyHops > 0 && splitList(env.TRUSTED_PROXY_CIDRS ?? '').length === 0
        ? `TRUSTED_PROXY_HOPS: ${rateLimit.trustedProxyHops} needs TRUSTED_PROXY_CIDRS (the proxies X-Forwarded-For is taken from); without it any client could pick its own address`
        : undefined,
  },
];

/** The names every cross-check reads: each must be a setting of the table (checked by the unit tests). */
export const CROSS_CHECKED = [...new Set(CROSS_CHECKS.flatMap((c) => c.reads))];

export function crossCheckProblems(
  draft: Config,
  env: Readonly<Record<string, string | undefined>>,
  failed: ReadonlySet<string>,
): string[] {
  return CROSS_CHECKS.filter((c) => c.reads.every((name) => !failed.has(name)))
    .map((c) => c.check(draft, env))
    .filter((problem) => problem !== undefined);
}
