/**
 * The chaos suite: the real clustered service (two replicas sharing one Redis), the mock exchange and a
 * real redis-server, under steady load from LoadGenerator, while the faults of faults.ts are injected one
 * at a time. Each fault gets one row: what the clients saw (from every response body), how often the mock
 * was called per source per refresh interval while the fault was held, and which alert rules had their
 * expression true (pending or firing) on a real Prometheus scraping the run. evaluate() holds each row to
 * its targets; runSuite() resolves the rows, and run.ts prints them and sets the exit code.
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
import { prometheusInstalled, startChaosPrometheus, type ChaosPrometheus } from './prometheus';
import {
  createReplica,
  MOCK_MAIN,
  SERVICE_MAIN,
  sleep,
  startChaosRedis,
  CLOCK_SKEW_PRELOAD,
  type Replica,
} from './stack';

export interface Profile {
  readonly name: string;
  readonly connections: number;
  readonly periodMs: number;
  /** Service settings (both replicas). */
  readonly env: Readonly<Record<string, string>>;
  readonly holdMs: number;
  readonly outageMs: number;
  /** After a fault is cleared: how long both replicas may take to serve fresh prices again. */
  readonly recoveryTimeoutMs: number;
  /** Load kept running after recovery, before the row closes. */
  readonly settleMs: number;
  readonly faults: readonly string[];
  readonly prometheus: boolean;
}

const ALL = FAULTS.map((f) => f.id);

export const FULL: Profile = {
  name: 'full',
  connections: 300,
  periodMs: 100,
  env: {
    REFRESH_INTERVAL_MS: '1000',
    CACHE_TTL: '5',
    MAX_STALENESS: '30',
    // MAX_SOURCE_AGE_MS left to its default (CACHE_TTL - 2 refresh intervals = 3000 here): finding 1.
    UPSTREAM_TIMEOUT_MS: '800',
    BREAKER_RESET_MS: '5000',
    UPSTREAM_BAN_COOLDOWN_MS: '5000',
    REDIS_COMMAND_TIMEOUT_MS: '250',
    DRAIN_DELAY_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '8000',
  },
  holdMs: 10_000,
  outageMs: 60_000,
  recoveryTimeoutMs: 20_000,
  settleMs: 2000,
  faults: ALL,
  prometheus: true,
};

/** The subset run by `make test` (service/test/chaos/chaos.test.ts): about 30 s. */
export const SHORT: Profile = {
  name: 'short',
  connections: 100,
  periodMs: 100,
  env: {
    REFRESH_INTERVAL_MS: '250',
    CACHE_TTL: '1',
    MAX_STALENESS: '3',
    // Not the default (500 here): on a busy CI box a 500 ms quote age rejects sources before the first round.
    MAX_SOURCE_AGE_MS: '1000',
    UPSTREAM_TIMEOUT_MS: '300',
    UPSTREAM_RETRIES: '1',
    UPSTREAM_RETRY_BASE_DELAY_MS: '10',
    BREAKER_RESET_MS: '1000',
    UPSTREAM_BAN_COOLDOWN_MS: '2000',
    REDIS_COMMAND_TIMEOUT_MS: '100',
    DRAIN_DELAY_MS: '300',
    SHUTDOWN_TIMEOUT_MS: '3000',
  },
  holdMs: 2500,
  outageMs: 6000,
  recoveryTimeoutMs: 8000,
  settleMs: 500,
  faults: ['redis-kill', 'history-redis-outage', 'worker-kill', 'garbage', 'total-outage'],
  prometheus: false,
};

export interface Row {
  readonly fault: Fault;
  readonly window: Window;
  /** Mock calls per source per refresh interval while the fault was held (EXCHANGES order). */
  readonly callsPerInterval: readonly number[];
  /** Pending/firing alerts that were not active when the fault started; undefined without Prometheus. */
  readonly alerts: Map<string, 'pending' | 'firing'> | undefined;
  /** ms from clearing the fault until both replicas served fresh prices (undefined: not within the timeout). */
  readonly recoveredAfterMs: number | undefined;
  readonly notes: string[];
  readonly failures: string[];
}

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

/** The targets of one row; the strings say what was missed. */
export function evaluate(
  row: Omit<Row, 'failures'>,
  limits: { freshnessMs: number; maxStalenessMs: number; worstAgeLimitMs?: number },
): string[] {
  const w = row.window;
  const failures: string[] = [];
  if (w.wrongCount > 0) failures.push(`${w.wrongCount} price(s) outside the true band`);
  if (w.unflaggedStale > 0)
    failures.push(`${w.unflaggedStale} answer(s) older than CACHE_TTL not flagged stale`);
  if (w.overMaxStaleness > 0) failures.push(`${w.overMaxStaleness} 200(s) older than MAX_STALENESS`);
  if (w.statuses.has('unparsed')) failures.push('200 bodies without a status');
  if (limits.worstAgeLimitMs !== undefined && w.worstAgeMs > limits.worstAgeLimitMs) {
    failures.push(`worst ageMs ${w.worstAgeMs} > ${limits.worstAgeLimitMs}`);
  }
  if (row.fault.expect === 'absorb') {
    if (w.failed > 0) failures.push(`${w.failed} failed request(s)`);
  } else {
    if (w.connectionErrors > 0) failures.push(`${w.connectionErrors} connection error(s)`);
    for (const [status, count] of w.non2xx) {
      if (status !== 503) failures.push(`${count} answer(s) with status ${status}`);
    }
    if (w.missingRetryAfter > 0) failures.push(`${w.missingRetryAfter} 503(s) without Retry-After`);
    if (!w.statuses.has('stale')) failures.push('never served the last price flagged stale');
    if (!w.non2xx.has(503)) failures.push('never answered 503 past MAX_STALENESS');
    const first503 = w.firstSeen.get('503');
    const lastStale = w.lastSeen.get('stale');
    if (first503 !== undefined && lastStale !== undefined && row.recoveredAfterMs === undefined) {
      failures.push('stale and 503 seen but no recovery');
    }
  }
  if (row.recoveredAfterMs === undefined) failures.push('did not recover (fresh prices) within the timeout');
  for (const alert of row.fault.alerts ?? []) {
    if (row.alerts !== undefined && !row.alerts.has(alert)) failures.push(`alert ${alert} never pending`);
  }
  return failures;
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
    if (fault === undefined) throw new Error(`unknown fault ${id} (known: ${ALL.join(', ')})`);
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

// ---------------------------------------------------------------------------------------------------------
// The table

const fmt = (n: number) => String(n);

function statusesOf(w: Window): string {
  const parts: string[] = [];
  for (const key of ['ok', 'degraded', 'stale', 'unparsed']) {
    const n = w.statuses.get(key);
    if (n !== undefined) parts.push(`${key === 'degraded' ? 'deg' : key} ${n}`);
  }
  return parts.join(', ') || '-';
}

function non2xxOf(w: Window): string {
  if (w.non2xx.size === 0) return '0';
  return [...w.non2xx].map(([status, n]) => `${status}:${n}`).join(' ');
}

function alertsOf(row: Row): string {
  if (row.alerts === undefined) return 'not evaluated';
  if (row.alerts.size === 0) return 'none';
  return [...row.alerts].map(([name, state]) => `${name}${state === 'firing' ? ' (firing)' : ''}`).join(', ');
}

export function formatTable(result: SuiteResult): string {
  const header = [
    'fault',
    'sent',
    '2xx/304',
    'non-2xx',
    'conn err',
    'worst ageMs',
    'statuses',
    'wrong',
    `calls/interval ${EXCHANGES.map((e) => e.slice(0, 2)).join('/')}`,
    'alert expr true (Prometheus)',
    'target',
  ];
  const lines = result.rows.map((row) => {
    const w = row.window;
    return [
      row.fault.title,
      fmt(w.sent),
      `${w.ok2xx}/${w.notModified}`,
      non2xxOf(w),
      fmt(w.connectionErrors),
      fmt(w.worstAgeMs),
      statusesOf(w),
      fmt(w.wrongCount),
      row.callsPerInterval.map((c) => c.toFixed(1)).join('/'),
      alertsOf(row),
      row.failures.length === 0 ? 'met' : 'MISSED',
    ];
  });
  for (const skip of result.skipped)
    lines.push([skip.id, '-', '-', '-', '-', '-', '-', '-', '-', '-', `not run: ${skip.reason}`]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const render = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  const out = [render(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(render)];
  out.push('');
  for (const row of result.rows) {
    for (const note of row.notes) out.push(`- ${row.fault.id}: ${note}`);
    for (const failure of row.failures) out.push(`- ${row.fault.id}: MISSED ${failure}`);
  }
  return out.join('\n');
}
