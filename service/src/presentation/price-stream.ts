import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { PriceReader } from '../application/price-reader';
import type { PriceSnapshot, PriceStatus } from '../application/price-snapshot';
import type { SnapshotVersion, SnapshotView } from './snapshot-view';
import { sendProblem } from './problem';
import { rawHeader } from './http-headers';

/** Why a stream was ended by the server. */
export const STREAM_DROP_REASONS = ['backpressure', 'lifetime', 'draining'] as const;
export type StreamDropReason = (typeof STREAM_DROP_REASONS)[number];
export const STREAM_EVENT_TYPES = ['price', 'status', 'heartbeat'] as const;
export type StreamEventType = (typeof STREAM_EVENT_TYPES)[number];

/** How often the one timer per worker looks at status changes, lifetimes and the heartbeat. */
const SWEEP_MS = 250;

export interface PriceStreamSettings {
  readonly maxSubscribersPerWorker: number;
  readonly maxSubscribersPerClient: number;
  readonly heartbeatMs: number;
  readonly maxLifetimeMs: number;
  readonly retryMs: number;
  readonly maxBufferedBytes: number;
}

export interface PriceStreamDeps {
  readonly settings: PriceStreamSettings;
  readonly reader: PriceReader;
  readonly view: SnapshotView;
  /** Configured pair slugs. */
  readonly pairs: readonly string[];
  /** The client a stream is counted against: the same identity the rate limit uses (client-identity.ts). */
  readonly identify: (req: IncomingMessage) => string;
  readonly common: readonly string[];
  /** Seconds a refused client should wait (a full worker). */
  readonly retryAfterSeconds: number;
  readonly metrics: {
    streamSubscribers(count: number): void;
    streamEventsSent(type: StreamEventType, count: number): void;
    streamDropped(reason: StreamDropReason): void;
    streamFanout(seconds: number): void;
  };
  readonly clock?: () => number;
}

interface Subscriber {
  readonly res: ServerResponse;
  /** Events go straight to the socket once the head is written: the body has no framing to add. */
  readonly socket: Socket;
  readonly pair: PairState;
  readonly client: string;
  readonly openedAtMs: number;
}

/** What a pair's subscribers were last told: the event id (price data and status) and the status. */
interface PairState {
  readonly subscribers: Set<Subscriber>;
  snapshot: PriceSnapshot | undefined;
  id: string | undefined;
  status: PriceStatus | undefined;
  /** The current snapshot's price event, as bytes: what a new or resuming subscriber is sent first. */
  event: Buffer | undefined;
  version: SnapshotVersion | undefined;
}

const HEARTBEAT = Buffer.from(':\n\n');

/**
 * GET /api/v1/prices/:pair/stream: server-sent events of price changes. A worker holds every subscriber of a
 * pair in one set; a new snapshot (from the primary over IPC, or the local refresher) is rendered once into
 * the bytes of one event, which are written to every subscriber's socket as they are. One timer per worker
 * (not per subscriber) sends status changes that come with time alone (ok → stale → unavailable), the
 * heartbeat, and closes streams past their lifetime. A subscriber whose unsent bytes pass the bound is
 * dropped: a client that does not read costs at most that much memory.
 *
 * The response is delimited by the connection's close (no chunked framing): every event is one write of
 * prebuilt bytes, and a client reconnects on a new connection anyway.
 */
export function createPriceStream(deps: PriceStreamDeps) {
  const clock = deps.clock ?? Date.now;
  const settings = deps.settings;
  const pairs = new Map<string, PairState>();
  for (const pair of deps.pairs) {
    pairs.set(pair, {
      subscribers: new Set(),
      snapshot: undefined,
      id: undefined,
      status: undefined,
      event: undefined,
      version: undefined,
    });
  }
  const perClient = new Map<string, number>();
  let total = 0;
  let closed = false;
  let lastHeartbeatMs = clock();
  const retryLine = `retry: ${settings.retryMs}\n\n`;

  /** Writes one event to every subscriber of the pair; returns how many were written. */
  function broadcast(pair: PairState, bytes: Buffer): number {
    let written = 0;
    for (const subscriber of pair.subscribers) {
      if (write(subscriber, bytes)) written++;
    }
    return written;
  }

  /** One write; a subscriber with more than the bound unsent is dropped instead. */
  function write(subscriber: Subscriber, bytes: Buffer): boolean {
    const socket = subscriber.socket;
    if (socket.destroyed) return false;
    socket.write(bytes);
    if (socket.writableLength > settings.maxBufferedBytes) {
      drop(subscriber, 'backpressure');
      return false;
    }
    return true;
  }

  function remove(subscriber: Subscriber): void {
    if (!subscriber.pair.subscribers.delete(subscriber)) return;
    total--;
    const left = (perClient.get(subscriber.client) ?? 1) - 1;
    if (left === 0) perClient.delete(subscriber.client);
    else perClient.set(subscriber.client, left);
    deps.metrics.streamSubscribers(total);
  }

  function drop(subscriber: Subscriber, reason: StreamDropReason): void {
    remove(subscriber);
    deps.metrics.streamDropped(reason);
    // A reader that is gone or stuck is destroyed; the others are ended cleanly after what was written, and
    // reconnect (with Last-Event-ID) after the retry advice.
    if (reason === 'backpressure') subscriber.res.destroy();
    else subscriber.res.end();
  }

  /**
   * A snapshot for its pair: a status event if the status changed, then a price event if the price data
   * changed. A round that brings no new price (every source failing, the last good price kept) is no news:
   * subscribers never see the same price event twice.
   */
  function publish(snapshot: PriceSnapshot): void {
    const pair = pairs.get(snapshot.pair);
    if (pair === undefined || pair.snapshot === snapshot) return;
    const started = performance.now();
    const version = deps.view.at(snapshot, clock());
    const previous = pair.status;
    const news = version.id !== pair.id;
    pair.snapshot = snapshot;
    pair.id = version.id;
    pair.status = version.status;
    pair.version = version;
    if (news) pair.event = deps.view.priceEvent(version);
    if (pair.subscribers.size === 0) return;
    if (previous !== version.status) {
      const event = deps.view.statusEvent(snapshot, version, previous);
      deps.metrics.streamEventsSent('status', broadcast(pair, event));
    }
    if (news && pair.event !== undefined) {
      deps.metrics.streamEventsSent('price', broadcast(pair, pair.event));
      deps.metrics.streamFanout((performance.now() - started) / 1000);
    }
  }

  /** Status changes that come with time alone, the heartbeat, lifetimes. */
  function sweep(): void {
    const now = clock();
    for (const pair of pairs.values()) {
      const snapshot = pair.snapshot;
      if (snapshot === undefined) continue;
      const version = deps.view.at(snapshot, now);
      if (version.status !== pair.status) {
        const previous = pair.status;
        pair.status = version.status;
        pair.id = version.id;
        pair.version = version;
        pair.event = deps.view.priceEvent(version);
        if (pair.subscribers.size > 0) {
          const event = deps.view.statusEvent(snapshot, version, previous);
          deps.metrics.streamEventsSent('status', broadcast(pair, event));
        }
      }
      // Insertion order is opening order: the expired ones are at the front.
      for (const subscriber of pair.subscribers) {
        if (now - subscriber.openedAtMs < settings.maxLifetimeMs) break;
        drop(subscriber, 'lifetime');
      }
    }
    if (now - lastHeartbeatMs >= settings.heartbeatMs) {
      lastHeartbeatMs = now;
      for (const pair of pairs.values()) {
        if (pair.subscribers.size > 0) deps.metrics.streamEventsSent('heartbeat', broadcast(pair, HEARTBEAT));
      }
    }
  }
  const timer = setInterval(sweep, Math.min(SWEEP_MS, settings.heartbeatMs));
  timer.unref();

  function refuse(req: IncomingMessage, res: ServerResponse, status: 429 | 503, detail: string): void {
    sendProblem(
      res,
      {
        code: status === 429 ? 'TOO_MANY_STREAMS' : 'STREAM_CAPACITY_EXHAUSTED',
        detail,
        instance: req.url,
      },
      deps.common,
      { 'Retry-After': String(deps.retryAfterSeconds) },
    );
  }

  function open(req: IncomingMessage, res: ServerResponse, pair: PairState): number {
    const client = deps.identify(req);
    if (total >= settings.maxSubscribersPerWorker) {
      refuse(req, res, 503, 'This server holds as many streams as it may; retry, or poll the price instead.');
      return 503;
    }
    const held = perClient.get(client) ?? 0;
    if (held >= settings.maxSubscribersPerClient) {
      refuse(req, res, 429, `At most ${settings.maxSubscribersPerClient} open streams per client.`);
      return 429;
    }
    // A stream outlives any request timeout: no socket timeout, and close-delimited (no chunked framing).
    req.socket.setTimeout(0);
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
    res.writeHead(200, [
      ...deps.common,
      'Content-Type',
      'text/event-stream; charset=utf-8',
      'Cache-Control',
      'no-cache',
      'X-Accel-Buffering',
      'no',
    ]);
    if (req.method === 'HEAD') {
      res.end();
      return 200;
    }
    const lastEventId = rawHeader(req, 'last-event-id');
    const subscriber: Subscriber = { res, socket: req.socket, pair, client, openedAtMs: clock() };
    let first = retryLine;
    const resumed = lastEventId !== undefined && lastEventId === pair.id;
    if (!resumed && pair.event !== undefined) first = `${retryLine}${pair.event.toString()}`;
    else if (!resumed && pair.status === 'unavailable' && pair.snapshot !== undefined) {
      const event = deps.view.statusEvent(pair.snapshot, pair.version as SnapshotVersion, undefined);
      first = `${retryLine}${event.toString()}`;
    }
    res.write(first);
    if (closed) {
      // Shutting down: the client gets the current price and reconnects elsewhere after the retry advice.
      res.end();
      return 200;
    }
    pair.subscribers.add(subscriber);
    perClient.set(client, held + 1);
    total++;
    deps.metrics.streamSubscribers(total);
    res.once('close', () => remove(subscriber));
    return 200;
  }

  return {
    /** Answers GET/HEAD on the stream route of a configured pair; returns the status code written. */
    handle(req: IncomingMessage, res: ServerResponse, pairSlug: string): number | Promise<number> {
      const pair = pairs.get(pairSlug) as PairState;
      if (pair.snapshot !== undefined) return open(req, res, pair);
      // A cold worker: the same coalesced L2 read the price route makes, then the stream.
      const current = deps.reader.current(pairSlug);
      if (current !== undefined) {
        publish(current);
        return open(req, res, pair);
      }
      return deps.reader.load(pairSlug).then((loaded) => {
        if (loaded !== undefined) publish(loaded);
        return res.destroyed ? 499 : open(req, res, pair);
      });
    },
    publish,
    /** Open subscribers now (this worker). */
    subscribers: () => total,
    /**
     * Drain: every stream is ended after what has been written, so clients reconnect (elsewhere, once the
     * listener is closed); streams opened after this get the current price and are ended at once.
     */
    close(): number {
      closed = true;
      clearInterval(timer);
      let ended = 0;
      for (const pair of pairs.values()) {
        for (const subscriber of [...pair.subscribers]) {
          drop(subscriber, 'draining');
          ended++;
        }
      }
      return ended;
    },
  };
}

export type PriceStream = ReturnType<typeof createPriceStream>;
