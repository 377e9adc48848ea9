import { createHash } from 'node:crypto';
import {
  statusAt,
  type FreshnessRules,
  type PriceSnapshot,
  type PriceStatus,
} from '../application/price-snapshot';

/** A snapshot as clients see it at one moment: the REST body, its version (the ETag's opaque part) and status. */
export interface SnapshotVersion {
  readonly status: PriceStatus;
  /** Price data and status: the same on every replica, so it works as an ETag and a stream event id. */
  readonly id: string;
  readonly json: string;
  /** ms since the price's (oldest source) timestamp, at the moment of the view. */
  readonly ageMs: number;
}

/** The static parts of a snapshot's body, built once per snapshot. */
interface Prebuilt {
  readonly snapshot: PriceSnapshot;
  readonly head: string;
  readonly tail: string;
  readonly contentHash: string;
}

/**
 * Snapshot → what the REST route and the stream send: built here once per snapshot (the JSON around the
 * two fields that change with time, and the content hash), so neither pays for JSON.stringify per request
 * or per subscriber, and both say the same thing in the same bytes.
 */
export function createSnapshotView(freshness: FreshnessRules) {
  const prebuilt = new Map<string, Prebuilt>();

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
    // The hash names the price data, not this replica's round time, so replicas agree on it.
    const contentHash = createHash('sha1')
      .update(head)
      .update(tail.replace(/"updatedAt":"[^"]*"/, ''))
      .digest('base64url')
      .slice(0, 20);
    const built = { snapshot, head, tail, contentHash };
    prebuilt.set(snapshot.pair, built);
    return built;
  }

  return {
    /** The body, version and status of a snapshot at `now`. */
    at(snapshot: PriceSnapshot, now: number): SnapshotVersion {
      const status = statusAt(snapshot, now, freshness);
      const { head, tail, contentHash } = prebuild(snapshot);
      const ageMs = snapshot.price === undefined ? 0 : Math.max(0, now - snapshot.price.timestampMs);
      const json = `${head},"ageMs":${ageMs},"status":"${status}","stale":${status === 'stale'},${tail}`;
      return { status, id: `${contentHash}-${status}`, json, ageMs };
    },
    /** A price event of the stream (none while the price cannot be served: a status event says so). */
    priceEvent(version: SnapshotVersion): Buffer | undefined {
      return version.status === 'unavailable'
        ? undefined
        : Buffer.from(`id: ${version.id}\nevent: price\ndata: ${version.json}\n\n`);
    },
    /** A status event of the stream: the status changed (`previous`), with the price's age and time. */
    statusEvent(
      snapshot: PriceSnapshot,
      version: SnapshotVersion,
      previous: PriceStatus | undefined,
    ): Buffer {
      const data = JSON.stringify({
        pair: snapshot.symbol,
        status: version.status,
        previous,
        ageMs: snapshot.price === undefined ? undefined : version.ageMs,
        timestamp:
          snapshot.price === undefined ? undefined : new Date(snapshot.price.timestampMs).toISOString(),
      });
      return Buffer.from(`id: ${version.id}\nevent: status\ndata: ${data}\n\n`);
    },
  };
}

export type SnapshotView = ReturnType<typeof createSnapshotView>;
