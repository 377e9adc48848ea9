/**
 * The chaos suite: the real clustered service (two replicas sharing one Redis), the mock exchange and a
 * real redis-server, under steady load from LoadGenerator, while the faults of faults.ts are injected one
 * at a time. Each fault gets one row: what the clients saw (from every response body), how often the mock
 * was called per source per refresh interval while the fault was held, and which alert rules had their
 * expression true (pending or firing) on a real Prometheus scraping the run. evaluate() (row-targets.ts)
 * holds each row to its targets; runSuite() resolves the rows, and run.ts prints them (result-table.ts) and
 * sets the exit code. The profiles (how hard, how long, which faults) are in profiles.ts.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  EXCHANGES,
  mockExchangeClient,
  type MockExchangeClient,
} from '../../../mock-exchange/src/mock-exchange';
import { startMockExchangeProcess, stopAll } from '../../../scripts/lib/local-stack';
import { PriceTimeline } from './band';
import { FAULTS, MAJORITY_SPIKE, UNABSORBABLE, type Fault, type FaultContext } from './faults';
import { HISTORY_REDIS_OUTAGE } from './history-outage';
import { LoadGenerator, Window } from './load';
import type { Profile } from './profiles';
import { prometheusInstalled, startChaosPrometheus, type ChaosPrometheus } from './prometheus';
import { evaluate, type Row } from './row-targets';
import {
  createReplica,
  MOCK_MAIN,
  SERVICE_MAIN,
  sleep,
  startChaosRedis,
  CLOCK_SKEW_PRELOAD,
  type Replica,
} from './stack';

export interface SuiteResult {
  readonly profile: Profile;
  readonly rows: Row[];
  readonly durationMs: number;
  readonly skipped: { id: string; reason: string }[];
}

export interface SuiteOptions {
  /** Prints progress lines. */
  readonly log?: (line: string) => void;
  /** Demonstrations that the targets can fail (see run.ts --demo). */
  readonly demo?:
    'unabsorbable' | 'majority-spike' | 'wrong-band' | 'alert' | 'impossible-age' | 'history-gap';
}

/** Fresh (ok or degraded, within CACHE_TTL) on every replica. */
async function allFresh(replicas: readonly Replica[]): Promise<boolean> {
  for (const replica of replicas) {
    try {
      const response = await fetch(`${replica.api}/api/v1/prices/eth-usdt`, {
        signal: AbortSignal.timeout(1000),
      });
      const body = (await response.json()) as { status?: string };
      if (response.status !== 200 || (body.status !== 'ok' && body.status !== 'degraded')) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function allOk(replicas: readonly Replica[], mock: MockExchangeClient): Promise<boolean> {
  const faults = await mock.faults();
  if (Object.values(faults).some((f) => f !== null)) return false;
  for (const replica of replicas) {
    try {
      const response = await fetch(`${replica.api}/api/v1/prices/eth-usdt`, {
        signal: AbortSignal.timeout(1000),
      });
      const body = (await response.json()) as { status?: string };
      if (body.status !== 'ok') return false;
    } catch {
      return false;
    }
  }
  return true;
}

export async function runSuite(profile: Profile, options: SuiteOptions = {}): Promise<SuiteResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  for (const file of [SERVICE_MAIN, MOCK_MAIN, CLOCK_SKEW_PRELOAD]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run make build`);
  }
  const intervalMs = Number(profile.env.REFRESH_INTERVAL_MS ?? 1000);
  const freshnessMs = Number(profile.env.CACHE_TTL ?? 5) * 1000;
  const maxStalenessMs = Number(profile.env.MAX_STALENESS ?? 60) * 1000;
  const upstreamTimeoutMs = Number(profile.env.UPSTREAM_TIMEOUT_MS ?? 800);
  const logDir = mkdtempSync(path.join(tmpdir(), 'chaos-'));
  const skipped: { id: string; reason: string }[] = [];

  let faults = profile.faults.map((id) => {
    const fault = FAULTS.find((f) => f.id === id);
    if (fault === undefined)
      throw new Error(`unknown fault ${id} (known: ${FAULTS.map((f) => f.id).join(', ')})`);
    return fault;
  });
  if (options.demo === 'unabsorbable') faults = [UNABSORBABLE];
  if (options.demo === 'majority-spike') faults = [MAJORITY_SPIKE];
  // One point held through the outage: the others are dropped, and the history case must find the gap.
  const env =
    options.demo === 'history-gap' ? { ...profile.env, HISTORY_PENDING_MAX_POINTS: '1' } : profile.env;
  if (options.demo === 'history-gap') faults = [HISTORY_REDIS_OUTAGE];
  if (options.demo === 'alert') {
    faults = faults.slice(0, 1).map((f) => ({ ...f, alerts: [...(f.alerts ?? []), 'PriceQuorumLost'] }));
  }
  for (const fault of faults)
    if (fault.notRun !== undefined) skipped.push({ id: fault.id, reason: fault.notRun });
  faults = faults.filter((f) => f.notRun === undefined);

  // The band is shifted by 1% in the wrong-band demonstration: every price must then count as wrong.
  const timeline = new PriceTimeline(Math.max(3000, 2.5 * intervalMs), Math.max(3000, 3 * intervalMs));
  const judge =
    options.demo === 'wrong-band'
      ? (price: number, ts: number) => timeline.judge(price * 0.99, ts)
      : timeline.judge;
  const newWindow = (name: string) => new Window(name, judge, freshnessMs, maxStalenessMs);

  let prometheus: ChaosPrometheus | undefined;
  let load: LoadGenerator | undefined;
  const replicas: Replica[] = [];
  const rows: Row[] = [];
  try {
    const [redis, mockProcess] = await Promise.all([startChaosRedis(), startMockExchangeProcess()]);
    const mock = mockExchangeClient(mockProcess.url);
    let mid = 350_000; // cents
    const pinNext = async () => {
      const text = (mid / 100).toFixed(2);
      timeline.pin(text);
      await mock.setPrice('ETH/USDT', text, false);
      mid += 1750; // +0.5% each fault: a price from an earlier pin lies outside the next band
    };
    await pinNext();
    for (const name of ['a', 'b']) {
      replicas.push(
        await createReplica({
          name,
          redisUrl: redis.url,
          mockUrl: mockProcess.url,
          env,
          logDir,
        }),
      );
    }
    await Promise.all(replicas.map((r) => r.start()));
    log(`stack up in ${Date.now() - started} ms (logs in ${logDir})`);

    if (profile.prometheus) {
      if (prometheusInstalled()) {
        prometheus = await startChaosPrometheus(replicas.map((r) => r.metricsTarget));
        log(`prometheus at ${prometheus.url}`);
      } else {
        log('prometheus not installed: alerts not evaluated');
      }
    }

    load = new LoadGenerator(
      replicas.map((r) => ({ name: r.name, url: r.api })),
      { connections: profile.connections, periodMs: profile.periodMs },
      newWindow('warm-up'),
    );
    load.start();
    await sleep(Math.max(1000, 2 * intervalMs));

    for (const fault of faults) {
      // An alert this fault expects that is still active from the fault before (two Redis faults in a row)
      // would be left out as active at the start and the row reported as never raising it: wait for it to
      // clear first, within the recovery bound.
      const expected = fault.alerts ?? [];
      const clearBy = Date.now() + profile.recoveryTimeoutMs;
      while (prometheus && expected.length > 0 && Date.now() < clearBy) {
        const active = await prometheus.activeAlerts().catch(() => new Map<string, string>());
        if (!expected.some((name) => active.has(name))) break;
        await sleep(1000);
      }
      await pinNext();
      await sleep(Math.max(500, 2 * intervalMs));
      const notes: string[] = [];
      const window = newWindow(fault.id);
      const before = load.swap(window);
      const between =
        before.failed > 0 || before.wrongCount > 0
          ? [`between faults, before this one: ${before.failed} failed, ${before.wrongCount} wrong price(s)`]
          : [];
      const alertsAtStart = prometheus ? await prometheus.activeAlerts().catch(() => new Map()) : undefined;
      const seenAlerts = new Map<string, 'pending' | 'firing'>();
      let polling = prometheus !== undefined;
      const poller = (async () => {
        while (polling && prometheus) {
          const active = await prometheus.activeAlerts().catch(() => new Map<string, 'pending' | 'firing'>());
          for (const [name, state] of active) {
            if (alertsAtStart?.has(name)) continue;
            if (seenAlerts.get(name) !== 'firing') seenAlerts.set(name, state);
          }
          await sleep(1000);
        }
      })();

      const countersBefore = await mock.counters();
      let clearedAt: number | undefined;
      const ctx: FaultContext = {
        redis,
        mock,
        replicas,
        intervalMs,
        upstreamTimeoutMs,
        holdMs: profile.holdMs,
        outageMs: profile.outageMs,
        cleared: () => {
          clearedAt = Date.now();
        },
        note: (text) => notes.push(text),
      };
      log(`fault ${fault.id}: ${fault.title}`);
      const heldFrom = Date.now();
      await fault.inject(ctx);
      clearedAt ??= Date.now();
      const countersAtClear = await mock.counters();
      const heldUntil = Date.now();
      // Counters over the hold; a fault cleared at once (a worker kill) is counted over the whole wait.
      const countedMs = Math.max(1, heldUntil - heldFrom);
      const callsPerInterval = EXCHANGES.map(
        (e) => ((countersAtClear[e] ?? 0) - (countersBefore[e] ?? 0)) / (countedMs / intervalMs),
      );

      let recoveredAfterMs: number | undefined;
      const clear = clearedAt;
      const deadline = clear + profile.recoveryTimeoutMs;
      while (Date.now() < deadline) {
        if (await allFresh(replicas)) {
          recoveredAfterMs = Date.now() - clear;
          break;
        }
        await sleep(50);
      }
      // Back to all six sources before the next fault (breakers closed, cool-downs over).
      const okDeadline = Date.now() + profile.recoveryTimeoutMs;
      while (Date.now() < okDeadline && !(await allOk(replicas, mock))) await sleep(100);
      const verified = fault.verify
        ? await fault.verify(ctx, { fromMs: heldFrom, toMs: clear, timeoutMs: profile.recoveryTimeoutMs })
        : [];
      await sleep(profile.settleMs);
      const closed = load.swap(newWindow('between'));
      polling = false;
      await poller;

      const outage = fault.id === 'total-outage' && profile.outageMs >= 25_000 && maxStalenessMs > 22_000;
      const effective: Fault = outage
        ? { ...fault, alerts: [...(fault.alerts ?? []), 'PriceAgeHigh'] }
        : fault;
      const partial = {
        fault: effective,
        window: closed,
        callsPerInterval,
        alerts: prometheus ? seenAlerts : undefined,
        recoveredAfterMs,
        notes,
      };
      const limits =
        options.demo === 'impossible-age'
          ? { freshnessMs, maxStalenessMs, worstAgeLimitMs: 0 }
          : { freshnessMs, maxStalenessMs };
      const failures = [...between, ...verified, ...evaluate(partial, limits)];
      if (fault.expect === 'outage') {
        const f = (k: string) => closed.firstSeen.get(k);
        const t = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);
        notes.push(
          `stale from ${t(f('stale'))}, 503 from ${t(f('503'))} to ${t(closed.lastSeen.get('503'))}, cleared at ${t(clear - closed.startedAt)}, fresh again ${t(recoveredAfterMs)} after`,
        );
      }
      if (closed.retried > 0 || closed.refused > 0) {
        notes.push(
          `${closed.retried} reset(s) retried once on a new connection, ${closed.refused} refused connect(s) sent elsewhere`,
        );
      }
      for (const wrong of closed.wrong) {
        notes.push(`wrong: ${wrong.price} @ ${wrong.timestamp} from ${wrong.replica}`);
      }
      if (closed.errorKinds.size > 0)
        notes.push(`connection errors: ${[...closed.errorKinds].map(([k, v]) => `${k} ${v}`).join(', ')}`);
      const row: Row = { ...partial, failures };
      rows.push(row);
      log(`  ${failures.length === 0 ? 'met' : `MISSED: ${failures.join('; ')}`}`);
    }
    await load.stop();
    load = undefined;
    return { profile, rows, durationMs: Date.now() - started, skipped };
  } finally {
    if (load) await load.stop();
    await prometheus?.stop().catch(() => undefined);
    await Promise.all(replicas.map((r) => r.stop().catch(() => null)));
    stopAll();
  }
}
