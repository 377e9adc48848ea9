import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PriceReader } from '../application/price-reader';
import type { FreshnessRules, PriceSnapshot, PriceStatus } from '../application/price-snapshot';
import { sendProblem, type Problem } from './problem';
import { etagMatches, withExtraHeaders } from './http-headers';
import { createSnapshotView, type SnapshotView } from './snapshot-view';

/**
 * Bodies are rendered at most this often per pair and worker (or when a new snapshot arrives): ageMs and
 * status in the body are true to within this, and no request pays for JSON.stringify.
 */
const RENDER_INTERVAL_MS = 100;

/**
 * How long a shared or private cache may keep a price, in whole seconds: to the price's freshness deadline
 * (timestamp + CACHE_TTL), an absolute moment no cache may stretch. A cache told `max-age=N` counts N from
 * when it stored the response, whatever `Age` says (nginx 1.22 ignores an upstream Age and forwards it
 * frozen), so N is the time left, not CACHE_TTL, and no Age is sent: RFC 9111 §5.1 gives Age to caches,
 * for the time since the origin produced the response, which is now. One second less than the whole
 * seconds left because nginx keeps time in whole seconds and still serves a response in the second its
 * lifetime ends (fresh while the current second <= stored second + N); `slackMs` covers a response
 * rendered up to RENDER_INTERVAL_MS before it is written, and its way to the cache. 0 (not cacheable, the
 * deadline is too close) rather than a lifetime past it.
 */
export function cacheLifetimeSeconds(
  deadlineMs: number,
  nowMs: number,
  slackMs = RENDER_INTERVAL_MS,
): number {
  return Math.max(0, Math.floor((deadlineMs - nowMs - slackMs) / 1000) - 1);
}

/**
 * Cache-Control of a price response. Fresh: `max-age` and `s-maxage` to the deadline, and `must-revalidate`
 * so that no cache serves it past that without asking (RFC 9111 §4.2.4, §5.2.2.2: s-maxage alone binds only
 * shared caches; must-revalidate forbids serving stale on error, stale-if-error included). Stale: `no-cache`,
 * every use revalidated (its ETag names the status, so a 304 never turns it back into ok).
 */
function cacheControl(status: PriceStatus, lifetimeSeconds: number): string {
  if (status === 'stale') return 'no-cache';
  return `public, max-age=${lifetimeSeconds}, s-maxage=${lifetimeSeconds}, must-revalidate`;
}

interface Rendered {
  readonly snapshot: PriceSnapshot;
  readonly status: PriceStatus;
  /** Rendered again from here on: RENDER_INTERVAL_MS, or sooner when the status changes. */
  readonly renderUntilMs: number;
  readonly body: Buffer;
  readonly etag: string;
  /** Flat [name, value, ...] list for writeHead: no header object is built per request. */
  readonly headers: readonly string[];
  readonly notModifiedHeaders: readonly string[];
}

/** What a price response said: its price status, or that the client's copy is current. */
export const PRICE_RESPONSES = ['ok', 'degraded', 'stale', 'unavailable', 'not_modified'] as const;

/** Why a pair's price cannot be served: the body of its 503 (also per pair in the batch route). */
export function priceUnavailable(
  pair: string,
  snapshot: PriceSnapshot | undefined,
  instance?: string,
): Problem {
  const lastPriceAt =
    snapshot?.price === undefined ? undefined : new Date(snapshot.price.timestampMs).toISOString();
  return {
    code: 'PRICE_UNAVAILABLE',
    detail:
      lastPriceAt === undefined
        ? 'No price has met the source quorum yet.'
        : `No fresh quorum of sources, and the last good price (${lastPriceAt}) is older than the maximum staleness.`,
    instance,
    pair: snapshot?.symbol ?? pair.toUpperCase().replace('-', '/'),
    lastPriceAt,
    quorum: snapshot?.quorum,
  };
}

export interface PriceHandlerDeps {
  readonly reader: PriceReader;
  /** Shared with the stream, so both render a snapshot once; its own when not given. */
  readonly view?: SnapshotView;
  readonly freshness: FreshnessRules;
  /** Seconds a client should wait before retrying a 503 (about one refresh interval). */
  readonly retryAfterSeconds: number;
  readonly pairs: readonly string[];
  readonly countServed: (pair: string) => (status: string) => void;
  /** Headers every response carries (security, static CORS), written with the prebuilt ones. */
  readonly common: readonly string[];
  /** CORS or the rate limit is on: a response may carry headers of its own (http-headers.ts). */
  readonly extraHeaders?: boolean;
  readonly clock?: () => number;
}

/**
 * GET /api/v1/prices/:pair. Serves the worker's L1 snapshot as prebuilt bytes with a weak ETag (same price
 * data, body differing only in ageMs); an L1 miss reads L2 once; nothing here ever waits on an exchange.
 * Returns the status code written, for the caller's metrics.
 */
export function createPriceHandler(deps: PriceHandlerDeps) {
  const clock = deps.clock ?? Date.now;
  const extraHeaders = deps.extraHeaders === true;
  const view = deps.view ?? createSnapshotView(deps.freshness);
  const rendered = new Map<string, Rendered>();
  const served = new Map(deps.pairs.map((pair) => [pair, deps.countServed(pair)]));
  const { freshnessMs, maxStalenessMs } = deps.freshness;

  /**
   * When a price's status next changes with time (statusAt: stale once older than CACHE_TTL, unavailable
   * once older than MAX_STALENESS): a body prebuilt as "ok" must not be served after its deadline.
   */
  function nextStatusChangeMs(timestampMs: number, now: number): number {
    if (now <= timestampMs + freshnessMs) return timestampMs + freshnessMs + 1;
    if (now <= timestampMs + maxStalenessMs) return timestampMs + maxStalenessMs + 1;
    return Infinity;
  }

  function render(snapshot: PriceSnapshot, now: number): Rendered {
    const { status, id, json } = view.at(snapshot, now);
    const body = Buffer.from(json);
    const etag = `W/"${id}"`;
    const timestampMs = snapshot.price?.timestampMs ?? now;
    // A source clock ahead of ours makes the price look younger than 0 ms: no cache keeps it past CACHE_TTL.
    const freshUntilMs = Math.min(timestampMs, now) + freshnessMs;
    const common = [
      ...deps.common,
      'ETag',
      etag,
      'Cache-Control',
      cacheControl(status, cacheLifetimeSeconds(freshUntilMs, now)),
    ];
    return {
      snapshot,
      status,
      renderUntilMs: Math.min(now + RENDER_INTERVAL_MS, nextStatusChangeMs(timestampMs, now)),
      body,
      etag,
      headers: [
        'Content-Type',
        'application/json; charset=utf-8',
        'Content-Length',
        String(body.length),
        ...common,
      ],
      notModifiedHeaders: common,
    };
  }

  function write(
    req: IncomingMessage,
    res: ServerResponse,
    pair: string,
    snapshot: PriceSnapshot | undefined,
  ): number {
    const count = served.get(pair) as (status: string) => void;
    const now = clock();
    if (snapshot === undefined) return unavailable(res, req, pair, count, undefined);
    let view = rendered.get(pair);
    if (view === undefined || view.snapshot !== snapshot || now >= view.renderUntilMs) {
      view = render(snapshot, now);
      rendered.set(pair, view);
    }
    if (view.status === 'unavailable') return unavailable(res, req, pair, count, snapshot);
    if (etagMatches(req, view.etag)) {
      res.writeHead(
        304,
        (extraHeaders ? withExtraHeaders(res, view.notModifiedHeaders) : view.notModifiedHeaders) as string[],
      );
      res.end();
      count('not_modified');
      return 304;
    }
    res.writeHead(200, (extraHeaders ? withExtraHeaders(res, view.headers) : view.headers) as string[]);
    res.end(req.method === 'HEAD' ? undefined : view.body);
    count(view.status);
    return 200;
  }

  function unavailable(
    res: ServerResponse,
    req: IncomingMessage,
    pair: string,
    count: (status: string) => void,
    snapshot: PriceSnapshot | undefined,
  ): number {
    count('unavailable');
    sendProblem(res, priceUnavailable(pair, snapshot, req.url), deps.common, {
      'Retry-After': String(deps.retryAfterSeconds),
    });
    return 503;
  }

  return {
    pairs: new Set(deps.pairs),
    /** Answers for a configured pair; the synchronous path unless L1 misses. */
    handle(req: IncomingMessage, res: ServerResponse, pair: string): number | Promise<number> {
      const snapshot = deps.reader.current(pair);
      if (snapshot !== undefined) return write(req, res, pair, snapshot);
      return deps.reader.load(pair).then((loaded) => write(req, res, pair, loaded));
    },
  };
}

export type PriceHandler = ReturnType<typeof createPriceHandler>;
