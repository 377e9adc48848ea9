import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PriceReader } from '../application/price-reader';
import type { PriceSnapshot } from '../application/price-snapshot';
import { etagMatches, withExtraHeaders } from './http-headers';
import { invalidParameters, queryOf, type InvalidParam } from './history-params';
import { priceUnavailable } from './price-route';
import { problemBody, sendProblem } from './problem';
import type { SnapshotView } from './snapshot-view';

/** More names than this in `pairs` is refused before any is looked up. */
export const MAX_BATCH_PAIRS = 20;

export interface BatchPriceDeps {
  readonly reader: Pick<PriceReader, 'current' | 'load'>;
  /** The same view as the single price route: each pair's body is that route's bytes. */
  readonly view: SnapshotView;
  readonly pairs: readonly string[];
  readonly retryAfterSeconds: number;
  readonly common: readonly string[];
  readonly clock?: () => number;
}

/**
 * GET /api/v1/prices?pairs=eth-usdt,btc-usdt: several current prices in one call. Each entry carries the
 * pair's status code and the body the single route would send (its price, or its problem): 200 when any
 * pair has a price, else 503. Unknown pairs, too many or none at all: 400 naming `pairs`.
 */
export function createBatchPriceHandler(deps: BatchPriceDeps) {
  const clock = deps.clock ?? Date.now;
  const configured = new Set(deps.pairs);

  function invalid(res: ServerResponse, req: IncomingMessage, params: readonly InvalidParam[]): number {
    sendProblem(res, invalidParameters(params, req.url), deps.common);
    return 400;
  }

  /** The pairs asked for, in order and each once; or what is wrong with the parameter. */
  function requested(text: string | undefined): string[] | InvalidParam {
    if (text === undefined) return [...deps.pairs];
    const names = text.split(',').map((s) => s.trim().toLowerCase());
    if (names.length > MAX_BATCH_PAIRS) {
      return { name: 'pairs', reason: `${names.length} pairs, at most ${MAX_BATCH_PAIRS}` };
    }
    if (names.some((n) => n.length === 0)) return { name: 'pairs', reason: 'an empty pair name' };
    const unknown = names.filter((n) => !configured.has(n));
    if (unknown.length > 0) {
      const reason = `not configured: ${unknown.slice(0, 5).join(', ')} (supported: ${deps.pairs.join(', ')})`;
      return { name: 'pairs', reason };
    }
    return [...new Set(names)];
  }

  const loaded = (pair: string): PriceSnapshot | Promise<PriceSnapshot | undefined> | undefined =>
    deps.reader.current(pair) ?? deps.reader.load(pair).catch(() => undefined);

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const bad: InvalidParam[] = [];
    const pairs = requested(queryOf(req, bad).get('pairs'));
    if (!Array.isArray(pairs)) bad.push(pairs);
    if (bad.length > 0 || !Array.isArray(pairs)) return invalid(res, req, bad);
    const snapshots = await Promise.all(pairs.map(loaded));
    const now = clock();
    let answered = false;
    const versions: string[] = [];
    const entries = pairs.map((pair, i) => {
      const snapshot = snapshots[i];
      const version = snapshot === undefined ? undefined : deps.view.at(snapshot, now);
      if (version === undefined || version.status === 'unavailable') {
        versions.push('unavailable');
        return `{"pair":"${pair}","status":503,"body":${problemBody(priceUnavailable(pair, snapshot))}}`;
      }
      answered = true;
      versions.push(version.id);
      return `{"pair":"${pair}","status":200,"body":${version.json}}`;
    });
    const json = `{"prices":[${entries.join(',')}]}`;
    if (!answered) {
      const detail = `No price can be served for any of ${pairs.join(', ')}.`;
      sendProblem(
        res,
        { code: 'PRICE_UNAVAILABLE', detail, instance: req.url, prices: JSON.parse(json).prices },
        deps.common,
        { 'Retry-After': String(deps.retryAfterSeconds) },
      );
      return 503;
    }
    // Like the single route's: the price data and status of every pair, not the age in the body.
    const etag = `W/"${createHash('sha1').update(versions.join(',')).digest('base64url').slice(0, 22)}"`;
    const headers = [...deps.common, 'ETag', etag, 'Cache-Control', 'no-cache'];
    if (etagMatches(req, etag)) {
      res.writeHead(304, withExtraHeaders(res, headers) as string[]);
      res.end();
      return 304;
    }
    const body = Buffer.from(json);
    headers.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(body.length));
    res.writeHead(200, withExtraHeaders(res, headers) as string[]);
    res.end(req.method === 'HEAD' ? undefined : body);
    return 200;
  };
}
