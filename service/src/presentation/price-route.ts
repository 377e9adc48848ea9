import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PriceReader } from '../application/price-reader';
import {
  statusAt,
  type FreshnessRules,
  type PriceSnapshot,
  type PriceStatus,
} from '../application/price-snapshot';
import { sendProblem } from './problem';
import { rawHeader, withExtraHeaders } from './http-headers';

export const PRICE_ROUTE = '/api/v1/prices/:pair';

/**
 * Bodies are rendered at most this often per pair and worker (or when a new snapshot arrives): ageMs and
 * status in the body are true to within this, and no request pays for JSON.stringify.
 */
const RENDER_INTERVAL_MS = 100;

interface Rendered {
  readonly snapshot: PriceSnapshot;
  readonly status: PriceStatus;
  readonly renderedAtMs: number;
  readonly body: Buffer;
  readonly etag: string;
  /** Flat [name, value, ...] list for writeHead: no header object is built per request. */
  readonly headers: readonly string[];
  readonly notModifiedHeaders: readonly string[];
}

/** The static parts of a snapshot's body, built once per snapshot. */
interface Prebuilt {
  readonly snapshot: PriceSnapshot;
  readonly head: string;
  readonly tail: string;
  readonly contentHash: string;
}

export interface PriceHandlerDeps {
  readonly reader: PriceReader;
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
  const rendered = new Map<string, Rendered>();
  const prebuilt = new Map<string, Prebuilt>();
  const served = new Map(deps.pairs.map((pair) => [pair, deps.countServed(pair)]));
  const freshForSeconds = String(Math.floor(deps.freshness.freshnessMs / 1000));

  function prebuild(snapshot: PriceSnapshot): Prebuilt {
    const held = prebuilt.get(snapshot.pair);
    if (held !== undefined && held.snapshot === snapshot) return held;
    const price = snapshot.price;
    const head = JSON.stringify({
      pair: snapshot.symbol,
      price: price?.price,
      bid: price?.bid,
      ask: price?.ask,
      confidence: price?.confidence,
      method: 'median_of_mid',
      timestamp: price === undefined ? undefined : new Date(price.timestampMs).toISOString(),
    }).slice(0, -1);
    const tail = JSON.stringify({
      quorum: snapshot.quorum,
      sources: snapshot.sources.map((s) => ({
        exchange: s.exchange,
        state: s.state,
        price: s.price,
        bid: s.bid,
        ask: s.ask,
        timestamp: s.timestampMs === undefined ? undefined : new Date(s.timestampMs).toISOString(),
        timestampSource: s.timestampSource,
        latencyMs: s.latencyMs,
        deviationBps: s.deviationBps,
        error: s.error,
      })),
      updatedAt: new Date(snapshot.updatedAtMs).toISOString(),
    }).slice(1);
    // The ETag names the price data, not this replica's round time, so replicas agree on it.
    const contentHash = createHash('sha1')
      .update(head)
      .update(tail.replace(/"updatedAt":"[^"]*"/, ''))
      .digest('base64url')
      .slice(0, 20);
    const built = { snapshot, head, tail, contentHash };
    prebuilt.set(snapshot.pair, built);
    return built;
  }

  function render(snapshot: PriceSnapshot, now: number): Rendered {
    const status = statusAt(snapshot, now, deps.freshness);
    const { head, tail, contentHash } = prebuild(snapshot);
    const ageMs = snapshot.price === undefined ? 0 : Math.max(0, now - snapshot.price.timestampMs);
    const body = Buffer.from(bodyText(head, tail, ageMs, status));
    const etag = `W/"${contentHash}-${status}"`;
    const common = [
      ...deps.common,
      'ETag',
      etag,
      'Cache-Control',
      status === 'stale' ? 'no-cache' : `public, max-age=${freshForSeconds}`,
      // Rounded up: a cache adding max-age to an Age rounded down would keep the price past CACHE_TTL.
      'Age',
      String(Math.ceil(ageMs / 1000)),
    ];
    return {
      snapshot,
      status,
      renderedAtMs: now,
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
    if (view === undefined || view.snapshot !== snapshot || now - view.renderedAtMs >= RENDER_INTERVAL_MS) {
      view = render(snapshot, now);
      rendered.set(pair, view);
    }
    if (view.status === 'unavailable') return unavailable(res, req, pair, count, snapshot);
    const ifNoneMatch = rawHeader(req, 'if-none-match');
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, view.etag)) {
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
    const lastPriceAt =
      snapshot?.price === undefined ? undefined : new Date(snapshot.price.timestampMs).toISOString();
    sendProblem(
      res,
      {
        status: 503,
        code: 'PRICE_UNAVAILABLE',
        title: 'Price unavailable',
        detail:
          lastPriceAt === undefined
            ? 'No price has met the source quorum yet.'
            : `No fresh quorum of sources, and the last good price (${lastPriceAt}) is older than the maximum staleness.`,
        instance: req.url,
        pair: snapshot?.symbol ?? pair.toUpperCase().replace('-', '/'),
        lastPriceAt,
        quorum: snapshot?.quorum,
      },
      deps.common,
      { 'Retry-After': String(deps.retryAfterSeconds) },
    );
    return 503;
  }

  return {
    pairs: new Set(deps.pairs),
    /**
     * The REST body of a snapshot at `now` and its version (the ETag's opaque part: price data and status,
     * the same on every replica), for the event stream: built once per snapshot, not per subscriber.
     */
    version(snapshot: PriceSnapshot, now: number): { status: PriceStatus; id: string; json: string } {
      const status = statusAt(snapshot, now, deps.freshness);
      const { head, tail, contentHash } = prebuild(snapshot);
      const ageMs = snapshot.price === undefined ? 0 : Math.max(0, now - snapshot.price.timestampMs);
      return { status, id: `${contentHash}-${status}`, json: bodyText(head, tail, ageMs, status) };
    },
    /** Answers for a configured pair; the synchronous path unless L1 misses. */
    handle(req: IncomingMessage, res: ServerResponse, pair: string): number | Promise<number> {
      const snapshot = deps.reader.current(pair);
      if (snapshot !== undefined) return write(req, res, pair, snapshot);
      return deps.reader.load(pair).then((loaded) => write(req, res, pair, loaded));
    },
  };
}

export type PriceHandler = ReturnType<typeof createPriceHandler>;

function bodyText(head: string, tail: string, ageMs: number, status: PriceStatus): string {
  return `${head},"ageMs":${ageMs},"status":"${status}","stale":${status === 'stale'},${tail}`;
}

/** Weak comparison (RFC 9110 §13.1.2): If-None-Match may list several tags or be "*". */
function etagMatches(header: string, etag: string): boolean {
  if (header === etag || header === '*') return true;
  const opaque = etag.slice(2);
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if (tag === '*' || (tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true;
  }
  return false;
}
