import { z } from 'zod';
import { parsePair, type Pair } from '../../domain/pair';
import { EXCHANGES, type ExchangeName } from '../../infrastructure/sources/exchange-adapter';
import { composite, custom, httpUrl, int, optionalInt, type ParseContext } from '../setting';
import { splitList } from './lists';

const PAIRS = custom(
  {
    env: 'PAIRS',
    default: 'ETH/USDT',
    doc: 'comma-separated pairs, served at `/api/v1/prices/<base>-<quote>`',
  },
  z.string().optional(),
);
const SOURCES = custom(
  {
    env: 'SOURCES',
    default: EXCHANGES.join(','),
    defaultDoc: 'all six',
    doc: `comma-separated: \`${EXCHANGES.join(',')}\``,
  },
  z.string().optional(),
);
const MOCK_EXCHANGE_URL = httpUrl({
  env: 'MOCK_EXCHANGE_URL',
  doc: 'point every source at the mock exchange (`<url>/<source>`; `make dev` does this)',
  example: 'http://127.0.0.1:9099',
});
const SOURCE_URLS = EXCHANGES.map((name) =>
  httpUrl({
    env: sourceUrlVariable(name),
    defaultDoc: "the exchange's API",
    doc: `base URL of ${name}'s API, overriding \`MOCK_EXCHANGE_URL\` for it`,
  }),
);

const CACHE_TTL = int({
  env: 'CACHE_TTL',
  min: 1,
  max: 3600,
  default: 5,
  unit: 's',
  doc: 'a price is fresh for this long after its timestamp (its oldest accepted source quote)',
  toConfig: (seconds) => seconds * 1000,
});
const REFRESH_INTERVAL_MS = int({
  env: 'REFRESH_INTERVAL_MS',
  min: 100,
  max: 60_000,
  default: 1000,
  unit: 'ms',
  doc: 'one upstream call per source per interval, cluster-wide; shorter than `CACHE_TTL`',
});
const MAX_SOURCE_AGE_MS = optionalInt({
  env: 'MAX_SOURCE_AGE_MS',
  min: 100,
  max: 600_000,
  unit: 'ms',
  defaultDoc: '`CACHE_TTL` − 2 × `REFRESH_INTERVAL_MS`, at least half of `CACHE_TTL` (`3000`)',
  doc: 'a source quote older than this is left out as stale. A price is as old as its oldest accepted quote, so the default accepts a quote only while the price it makes stays fresh for two more refresh rounds; at most `CACHE_TTL`',
  example: '3000',
});

/**
 * MAX_SOURCE_AGE_MS when it is not given. A price's timestamp is its oldest accepted quote's, and the price
 * is fresh while younger than CACHE_TTL: a quote accepted at age A leaves the price fresh for CACHE_TTL - A.
 * The next rounds replace the price one refresh interval apart (a slow source's fetch still in flight keeps
 * its old quote in them), so A <= CACHE_TTL - 2 intervals keeps the price fresh until two more rounds have
 * had their chance. When CACHE_TTL is under four intervals that would leave too little age for a quote to be
 * accepted at all (a healthy source's quote is up to an interval old), so half of CACHE_TTL is the floor.
 */
export function defaultMaxSourceAgeMs(freshnessMs: number, refreshIntervalMs: number): number {
  return Math.max(freshnessMs - 2 * refreshIntervalMs, Math.ceil(freshnessMs / 2));
}

/** What to price, from where, and how a price is made and aged: Config.pairs, .sources, .price, .upstream. */
export const priceSettings = {
  pairs: composite([PAIRS], parsePairs),
  sources: composite([SOURCES, MOCK_EXCHANGE_URL, ...SOURCE_URLS], parseSources),
  price: {
    freshnessMs: CACHE_TTL,
    /** Past this age nothing is served: 503 with Retry-After. */
    maxStalenessMs: int({
      env: 'MAX_STALENESS',
      min: 1,
      max: 86_400,
      default: 60,
      unit: 's',
      doc: 'a price older than `CACHE_TTL` is served as `stale` until this age, then 503; at least `CACHE_TTL`',
      toConfig: (seconds) => seconds * 1000,
    }),
    refreshIntervalMs: REFRESH_INTERVAL_MS,
    minQuorum: int({
      env: 'MIN_QUORUM',
      min: 1,
      max: 20,
      default: 3,
      doc: 'sources that must agree to publish a new price; at most the number of `SOURCES`',
    }),
    maxDeviationBps: int({
      env: 'MAX_DEVIATION_BPS',
      min: 1,
      max: 10_000,
      default: 100,
      unit: 'basis points',
      doc: 'a source further than this from the median is an outlier and left out',
    }),
    maxSourceAgeMs: composite(
      [MAX_SOURCE_AGE_MS, CACHE_TTL, REFRESH_INTERVAL_MS],
      ({ value }) =>
        value(MAX_SOURCE_AGE_MS) ??
        defaultMaxSourceAgeMs(value(CACHE_TTL) * 1000, value(REFRESH_INTERVAL_MS)),
    ),
  },
  upstream: {
    timeoutMs: int({
      env: 'UPSTREAM_TIMEOUT_MS',
      min: 50,
      max: 30_000,
      default: 800,
      unit: 'ms',
      doc: 'timeout of one try of an exchange call',
    }),
    retries: int({
      env: 'UPSTREAM_RETRIES',
      min: 0,
      max: 10,
      default: 2,
      doc: 'retries on network errors, timeouts, 5xx and short 429s',
    }),
    retryBaseDelayMs: int({
      env: 'UPSTREAM_RETRY_BASE_DELAY_MS',
      min: 1,
      max: 10_000,
      default: 50,
      unit: 'ms',
      doc: 'exponential backoff base (with jitter)',
    }),
    banCooldownMs: int({
      env: 'UPSTREAM_BAN_COOLDOWN_MS',
      min: 0,
      max: 86_400_000,
      default: 60_000,
      unit: 'ms',
      doc: 'cool-down after a 418/451 without `Retry-After`',
    }),
    breakerErrorThresholdPercent: int({
      env: 'BREAKER_ERROR_THRESHOLD_PERCENT',
      min: 1,
      max: 100,
      default: 50,
      unit: '%',
      doc: "failure share that opens a source's circuit breaker",
    }),
    breakerVolumeThreshold: int({
      env: 'BREAKER_VOLUME_THRESHOLD',
      min: 1,
      max: 1000,
      default: 3,
      doc: 'minimum calls in the window before the breaker may open',
    }),
    breakerResetMs: int({
      env: 'BREAKER_RESET_MS',
      min: 100,
      max: 600_000,
      default: 10_000,
      unit: 'ms',
      doc: 'an open breaker turns half-open after this',
    }),
  },
  /** Price history: what is kept, and how much is held while the store is unreachable. */
  history: {
    pointsRetentionMs: int({
      env: 'HISTORY_POINTS_RETENTION',
      min: 60,
      max: 7 * 86_400,
      default: 86_400,
      unit: 's',
      doc: 'price history: every published price, with the sources that made it, is kept this long',
      k8s: {},
      toConfig: (seconds) => seconds * 1000,
    }),
    minutesRetentionMs: int({
      env: 'HISTORY_MINUTES_RETENTION',
      min: 3_600,
      max: 400 * 86_400,
      default: 30 * 86_400,
      unit: 's',
      doc: 'price history: one-minute candles (what candles of 1m and coarser are built from) are kept this long',
      k8s: {},
      toConfig: (seconds) => seconds * 1000,
    }),
    maxPendingPoints: int({
      env: 'HISTORY_PENDING_MAX_POINTS',
      min: 1,
      max: 1_000_000,
      default: 3_600,
      doc: 'price history points held in memory while the history store (Redis) is unreachable, written in order when it is back; past this the oldest are dropped',
      k8s: {},
    }),
  },
};

function sourceUrlVariable(name: ExchangeName): string {
  return `SOURCE_${name.toUpperCase()}_URL`;
}

/** Each pair once (in any spelling), in order; every bad one reported. */
function parsePairs({ env, problem }: ParseContext): readonly Pair[] {
  const texts = splitList(env.PAIRS ?? (PAIRS.default as string));
  const pairs: Pair[] = [];
  for (const text of texts) {
    const pair = parsePair(text);
    if (pair === undefined) problem(`PAIRS: "${text}" is not a pair like ETH/USDT`);
    else if (!pairs.some((p) => p.slug === pair.slug)) pairs.push(pair);
  }
  if (texts.length === 0) problem('PAIRS: at least one pair is required');
  return pairs;
}

/** Each known source once, in order, with its URL: its own variable, else the mock's, else production. */
function parseSources({
  env,
  problem,
}: ParseContext): readonly { readonly name: ExchangeName; readonly baseUrl: string | undefined }[] {
  const names = splitList(env.SOURCES ?? (SOURCES.default as string));
  const sources: { name: ExchangeName; baseUrl: string | undefined }[] = [];
  for (const name of names) {
    if (!(EXCHANGES as readonly string[]).includes(name)) {
      problem(`SOURCES: unknown source "${name}" (known: ${EXCHANGES.join(', ')})`);
      continue;
    }
    const exchange = name as ExchangeName;
    if (sources.some((s) => s.name === exchange)) continue;
    const override = env[sourceUrlVariable(exchange)];
    const mock = env.MOCK_EXCHANGE_URL
      ? `${env.MOCK_EXCHANGE_URL.replace(/\/+$/, '')}/${exchange}`
      : undefined;
    sources.push({ name: exchange, baseUrl: (override ?? mock)?.replace(/\/+$/, '') });
  }
  if (names.length === 0) problem('SOURCES: at least one source is required');
  return sources;
}
