import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HistoryQueries } from '../application/history-queries';
import type { PriceHistory } from '../application/price-history';
import { candleFigures, fillPrevious } from '../domain/history/candles';
import {
  CANDLE_INTERVALS,
  candleCount,
  finestIntervalFor,
  INTERVAL_NAMES,
  isCandleInterval,
  MAX_CANDLES_PER_RANGE,
  type CandleInterval,
} from '../domain/history/intervals';
import type { Logger } from '../observability/logger';
import { createCandleJson } from './candle-json';
import { etagMatches, withExtraHeaders } from './http-headers';
import {
  decodeCursor,
  encodeCursor,
  invalidParameters,
  iso,
  lastPathSegment,
  parseDuration,
  parseTime,
  queryOf,
  type InvalidParam,
} from './history-params';
import { PROBLEMS, sendProblem, type Problem } from './problem';

/** Past instants and closed candles never change: a cache may keep them for a year without asking. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** What can still change (an open candle, an instant at the newest point, a window ending now). */
const SHORT_LIVED = 'public, max-age=1, must-revalidate';
const DEFAULT_RANGE_MS = 3_600_000;
const DEFAULT_WINDOW = '5m';

export interface HistoryRouteDeps {
  readonly history: PriceHistory;
  readonly queries: HistoryQueries;
  /** slug → symbol ("eth-usdt" → "ETH/USDT") of the configured pairs. */
  readonly symbols: ReadonlyMap<string, string>;
  /** Fine points are kept this long: the longest TWAP window. */
  readonly pointsRetentionMs: number;
  readonly retryAfterSeconds: number;
  readonly common: readonly string[];
  readonly logger: Logger;
  readonly clock?: () => number;
}

/**
 * GET /api/v1/prices/:pair/at/:time, …/candles and …/twap: the price history as clients ask for it. Every
 * answer is bounded work (a candle range is refused past MAX_CANDLES_PER_RANGE, a window past the fine
 * retention); a store that cannot be reached is a 503, never a 500.
 */
export function createHistoryRoutes(deps: HistoryRouteDeps) {
  const clock = deps.clock ?? Date.now;
  const { common } = deps;
  const candleJson = createCandleJson();

  function problem(res: ServerResponse, req: IncomingMessage, p: Problem, headers = {}) {
    sendProblem(res, { ...p, instance: req.url }, common, headers);
    return PROBLEMS[p.code].status;
  }

  function invalid(res: ServerResponse, req: IncomingMessage, params: readonly InvalidParam[]): number {
    return problem(res, req, invalidParameters(params));
  }

  /** A JSON answer with a strong ETag of its bytes, 304 when the client holds them. */
  function send(req: IncomingMessage, res: ServerResponse, value: unknown, cacheControl: string): number {
    return sendJson(req, res, JSON.stringify(value), cacheControl);
  }

  function sendJson(req: IncomingMessage, res: ServerResponse, json: string, cacheControl: string): number {
    const body = Buffer.from(json);
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
    const headers = [...common, 'ETag', etag, 'Cache-Control', cacheControl];
    if (etagMatches(req, etag)) {
      res.writeHead(304, withExtraHeaders(res, headers) as string[]);
      res.end();
      return 304;
    }
    headers.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(body.length));
    res.writeHead(200, withExtraHeaders(res, headers) as string[]);
    res.end(req.method === 'HEAD' ? undefined : body);
    return 200;
  }

  /** The store failed or timed out: logged, answered 503 with Retry-After. */
  function unavailable(res: ServerResponse, req: IncomingMessage, error: unknown): number {
    deps.logger.warn('price history query failed', { error: (error as Error).message, path: req.url });
    return problem(
      res,
      req,
      { code: 'HISTORY_UNAVAILABLE', detail: 'The price history store could not be reached; try again.' },
      { 'Retry-After': String(deps.retryAfterSeconds) },
    );
  }

  /** Runs a handler, turning a failed store into 503: nothing here is ever a 500. */
  const guarded =
    (handler: (req: IncomingMessage, res: ServerResponse, pair: string) => Promise<number>) =>
    (req: IncomingMessage, res: ServerResponse, pair: string): Promise<number> =>
      handler(req, res, pair).catch((error: unknown) => unavailable(res, req, error));

  async function at(req: IncomingMessage, res: ServerResponse, pair: string): Promise<number> {
    const text = lastPathSegment(req) ?? '';
    const t = parseTime(text);
    if (t === undefined) {
      return invalid(res, req, [{ name: 'time', reason: 'not an RFC 3339 date-time or Unix milliseconds' }]);
    }
    const now = clock();
    const [oldest, newest, point] = await Promise.all([
      deps.history.oldest(pair),
      deps.history.newest(pair),
      t > now ? undefined : deps.history.pointAt(pair, t),
    ]);
    if (oldest === undefined || t < oldest || t > now) {
      const earliest = oldest === undefined ? undefined : iso(oldest);
      const detail =
        t > now
          ? `${iso(t)} is in the future.`
          : earliest === undefined
            ? 'No price history is kept for this pair yet.'
            : `${iso(t)} is before the oldest price kept, ${earliest}.`;
      return problem(res, req, { code: 'HISTORY_OUT_OF_RANGE', detail, earliest, latest: iso(now) });
    }
    if (point === undefined) {
      const detail = `No price was in effect at ${iso(t)}: none had been published within the maximum staleness before it.`;
      return problem(res, req, { code: 'NO_PRICE_IN_EFFECT', detail, at: iso(t) });
    }
    const final = newest !== undefined && t <= newest;
    const body = {
      pair: deps.symbols.get(pair),
      at: iso(t),
      price: point.price,
      status: point.status,
      since: iso(point.t),
      sources: point.sources,
      final,
    };
    return send(req, res, body, final ? IMMUTABLE : SHORT_LIVED);
  }

  async function candles(req: IncomingMessage, res: ServerResponse, pair: string): Promise<number> {
    const bad: InvalidParam[] = [];
    const q = queryOf(req, bad);
    const now = clock();
    const time = (name: string): number | undefined => {
      const text = q.get(name);
      if (text === undefined) return undefined;
      const t = parseTime(text);
      if (t === undefined) bad.push({ name, reason: 'not an RFC 3339 date-time or Unix milliseconds' });
      return t;
    };
    const to = Math.min(time('to') ?? now, now);
    const from = time('from') ?? to - DEFAULT_RANGE_MS;
    const intervalText = q.get('interval');
    if (intervalText !== undefined && !isCandleInterval(intervalText)) {
      bad.push({ name: 'interval', reason: `not one of ${INTERVAL_NAMES.join(', ')}` });
    }
    const fill = q.get('fill') ?? 'none';
    if (fill !== 'none' && fill !== 'previous')
      bad.push({ name: 'fill', reason: 'not one of none, previous' });
    const limitText = q.get('limit');
    const limit = limitText === undefined ? MAX_CANDLES_PER_RANGE : Number(limitText);
    if (!/^\d{1,4}$/.test(limitText ?? '1') || limit < 1 || limit > MAX_CANDLES_PER_RANGE) {
      bad.push({ name: 'limit', reason: `not a whole number from 1 to ${MAX_CANDLES_PER_RANGE}` });
    }
    if (bad.length > 0) return invalid(res, req, bad);
    if (from >= to) {
      const reason = from > now ? 'in the future' : `not before \`to\` (${iso(to)})`;
      return invalid(res, req, [{ name: 'from', reason }]);
    }
    const finest = finestIntervalFor(from, to);
    if (finest === undefined) {
      return invalid(res, req, [{ name: 'from', reason: 'the range is longer than any interval allows' }]);
    }
    const interval: CandleInterval = (intervalText as CandleInterval | undefined) ?? finest;
    const count = candleCount(from, to, interval);
    if (count > MAX_CANDLES_PER_RANGE) {
      const reason = `${count} candles of ${interval} over this range, at most ${MAX_CANDLES_PER_RANGE}: use ${finest} or coarser`;
      return invalid(res, req, [{ name: 'interval', reason }]);
    }
    const length = CANDLE_INTERVALS[interval];
    const start = Math.floor(from / length) * length;
    const end = Math.ceil(to / length) * length;
    const cursorText = q.get('cursor');
    const pageStart = cursorText === undefined ? start : decodeCursor(cursorText);
    if (pageStart === undefined || pageStart < start || pageStart >= end || pageStart % length !== 0) {
      return invalid(res, req, [{ name: 'cursor', reason: 'not a cursor of this range and interval' }]);
    }
    const answers = await deps.queries.candles(pair, interval, start, end, now);
    const filled = fill === 'previous' ? fillPrevious(answers.map((a) => a.candle)) : undefined;
    const first = (pageStart - start) / length;
    const page = answers.slice(first, first + limit);
    const nextStart = first + limit < count ? start + (first + limit) * length : undefined;
    const rendered = page.map((a, i) => candleJson.render(pair, a, filled?.[first + i] ?? a.candle, length));
    const head = { pair: deps.symbols.get(pair), interval, from: iso(start), to: iso(end), fill };
    const next =
      nextStart === undefined
        ? null
        : `${(req.url ?? '').split('?', 1)[0]}?${new URLSearchParams({
            interval,
            from: String(from),
            to: String(to),
            fill,
            limit: String(limit),
            cursor: encodeCursor(nextStart),
          }).toString()}`;
    // JSON.stringify({ ...head, candles, next }) with the candles' JSON as rendered (and kept) above.
    const body = `${JSON.stringify(head).slice(0, -1)},"candles":[${rendered.join(',')}],"next":${JSON.stringify(next)}}`;
    // Only a range the client fixed can be kept for good: without `to` the same URL means a later range.
    const fixed = q.has('from') && q.has('to') && page.every((a) => a.final);
    return sendJson(req, res, body, fixed ? IMMUTABLE : SHORT_LIVED);
  }

  async function twap(req: IncomingMessage, res: ServerResponse, pair: string): Promise<number> {
    const bad: InvalidParam[] = [];
    const q = queryOf(req, bad);
    const windowText = q.get('window') ?? DEFAULT_WINDOW;
    const windowMs = parseDuration(windowText);
    if (windowMs === undefined || windowMs < 1_000) {
      bad.push({ name: 'window', reason: 'not a duration of at least 1s, such as 30s, 5m, 1h' });
    } else if (windowMs > deps.pointsRetentionMs) {
      const reason = `longer than the fine-point retention (${deps.pointsRetentionMs / 1000}s)`;
      bad.push({ name: 'window', reason });
    }
    if (bad.length > 0 || windowMs === undefined) return invalid(res, req, bad);
    const now = clock();
    const candle = await deps.queries.spanCandle(pair, now - windowMs, now);
    const figures = candleFigures(candle);
    if (figures.gap) {
      const detail = `No price was in effect at any time in the last ${windowText}.`;
      return problem(res, req, {
        code: 'NO_PRICE_IN_EFFECT',
        detail,
        from: iso(now - windowMs),
        to: iso(now),
      });
    }
    const body = {
      pair: deps.symbols.get(pair),
      window: windowText,
      from: iso(now - windowMs),
      to: iso(now),
      twap: figures.twap,
      coverage: figures.freshCoverage,
      covered: candleFigures({ ...candle, freshMs: candle.coveredMs }).freshCoverage,
      points: candle.points,
      degradedMs: candle.degradedMs,
      staleMs: candle.staleMs,
    };
    return send(req, res, body, SHORT_LIVED);
  }

  return { at: guarded(at), candles: guarded(candles), twap: guarded(twap) };
}
