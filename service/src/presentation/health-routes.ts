import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { PriceReader } from '../application/price-reader';
import { EVENT_LOOP_MONITOR_RESOLUTION_MS } from '../observability/event-loop-monitor';
import { statusAt, type FreshnessRules } from '../application/price-snapshot';
import { sendJson } from './json-response';

/** The probes: liveness (the event loop turns) and readiness (a price can be served, not draining). */
export function createHealthRoutes(deps: {
  readonly reader: PriceReader;
  readonly freshness: FreshnessRules;
  readonly pairs: readonly { slug: string }[];
  readonly sharedCacheStatus: () => 'up' | 'down' | 'disabled';
  readonly isDraining: () => boolean;
  readonly common: readonly string[];
}) {
  const headers = [...deps.common, 'Cache-Control', 'no-store'];
  const loopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_MONITOR_RESOLUTION_MS });
  loopDelay.enable();
  /**
   * p99 since the previous liveness probe, not since start (a stall an hour ago says nothing now), beyond
   * the sampling interval: the monitor records whole intervals, so an idle loop reads 0, not 50.
   */
  const loopDelayP99Ms = () => {
    const beyond = loopDelay.percentile(99) / 1e6 - EVENT_LOOP_MONITOR_RESOLUTION_MS;
    const p99 = Number(Math.max(0, beyond).toFixed(1));
    loopDelay.reset();
    return p99;
  };

  return {
    liveness(req: IncomingMessage, res: ServerResponse): number {
      const body = {
        status: 'alive',
        uptimeSeconds: Math.round(process.uptime()),
        eventLoopDelayP99Ms: loopDelayP99Ms(),
      };
      return sendJson(req, res, 200, body, headers);
    },
    async readiness(req: IncomingMessage, res: ServerResponse): Promise<number> {
      const now = Date.now();
      const pairs: Record<string, unknown> = {};
      let ready = !deps.isDraining();
      for (const pair of deps.pairs) {
        // peek, not current: probes are not traffic and must not count as cache hits.
        const snapshot = deps.reader.peek(pair.slug) ?? (await deps.reader.load(pair.slug));
        const status = snapshot === undefined ? 'unavailable' : statusAt(snapshot, now, deps.freshness);
        if (status === 'unavailable') ready = false;
        pairs[pair.slug] = {
          status,
          ageMs: snapshot?.price === undefined ? undefined : now - snapshot.price.timestampMs,
          quorum: snapshot?.quorum,
          sources: snapshot
            ? Object.fromEntries(
                snapshot.sources.map((s) => [s.exchange, s.error ? `${s.state} (${s.error})` : s.state]),
              )
            : undefined,
        };
      }
      // Redis is reported, never required: prices are still served from L1 and upstream without it.
      const body = {
        status: ready ? 'ready' : deps.isDraining() ? 'draining' : 'not_ready',
        pairs,
        redis: deps.sharedCacheStatus(),
      };
      return sendJson(req, res, ready ? 200 : 503, body, headers);
    },
  };
}
