/**
 * The repo's alert rules evaluated by a real Prometheus against the real clustered service, and the alerts
 * delivered by a real Alertmanager (Debian's) on the repo's alertmanager.yml to the project's webhook
 * receiver (monitoring/alertmanager/alert-logger.ts, here in-process on a free port).
 *
 * Prometheus: monitoring/prometheus/prometheus.yml with a static target and 1 s intervals, the repo's rule
 * files, and a test-only rule file of copies of PriceQuorumLost and PriceServedStale that differ only in a
 * short `for:` (the real ones wait 2 and 5 minutes). Alertmanager: the repo's routing tree, grouping,
 * inhibitions and receivers exactly, with only the timings shortened (group_wait, group_interval,
 * resolve_timeout) and the webhook host pointed at the local alert-logger.
 *
 * Every source of the mock exchange is made to fail: the repo's PriceQuorumLost goes pending, its fast copy
 * fires and pages; PriceServedStale fires too and must be inhibited by it; after recovery the page resolves
 * and the warning, no longer inhibited, reaches the ticket receiver.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
} from '../../mock-exchange/src/mock-exchange';
import { eventually } from '../../service/test/helpers/metrics';
import { DEFAULT_RUNBOOK_URL_BASE, runbookUrl } from '../alerts/runbook-url';
import { createAlertLogger } from '../alertmanager/alert-logger';
import { SERVICE_JOB } from './known-metrics';
import {
  startAlertmanager,
  startLiveService,
  startPrometheus,
  type LiveAlertmanager,
  type LivePrometheus,
  type LiveService,
  type PrometheusTarget,
} from './live';
import { readYaml, repoPath } from './paths';
import { RULE_FILES, loadAlertRules, loadRecordingRules } from './rules';

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  value: string;
}
interface RuleGroup {
  name: string;
  file: string;
  rules: {
    name: string;
    health: 'ok' | 'err' | 'unknown';
    lastError?: string;
    type: string;
    alerts?: Alert[];
  }[];
}
/** One line of the alert-logger, parsed, with the time it arrived. */
interface Notified {
  at: number;
  route: string;
  receiver: string;
  status: 'firing' | 'resolved';
  alertname: string;
  labels: Record<string, string>;
  summary?: string;
  runbook_url?: string;
  group_labels?: Record<string, string>;
  ends_at?: string;
}
interface AmAlert {
  labels: Record<string, string>;
  fingerprint: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[]; silencedBy: string[] };
}

const QUORUM_ALERT = 'PriceQuorumLost';
const STALE_ALERT = 'PriceServedStale';
const alertRules = loadAlertRules();
const quorumRule = alertRules.find((r) => r.alert === QUORUM_ALERT);
const staleRule = alertRules.find((r) => r.alert === STALE_ALERT);
const watchdogRule = alertRules.find((r) => r.alert === 'Watchdog');
const EXTERNAL_LABELS = readYaml<{ global: { external_labels?: Record<string, string> } }>(
  repoPath('monitoring/prometheus/prometheus.yml'),
).global.external_labels;

/** The test-only copies: the real rules with a short `for:` and nothing else changed. */
const FAST_FOR: Record<string, string> = { [QUORUM_ALERT]: '1s', [STALE_ALERT]: '1s' };
const FAST_GROUP = 'test-only-fast-copies';

/**
 * The repo's alertmanager.yml with only the timings shortened and the alert-logger's address replaced:
 * routes, matchers, grouping, inhibitions and receivers are what the stack runs.
 */
function testAlertmanagerConfig(webhookBase: string): unknown {
  const config = readYaml<{
    global?: Record<string, unknown>;
    route: Record<string, unknown>;
    receivers: { webhook_configs?: { url: string }[] }[];
  }>(repoPath('monitoring/alertmanager/alertmanager.yml'));
  const shorten = (route: Record<string, unknown>, root: boolean) => {
    if (root || 'group_wait' in route) route.group_wait = route.group_wait === '0s' ? '0s' : '1s';
    if (root || 'group_interval' in route) route.group_interval = '1s';
    for (const child of (route.routes as Record<string, unknown>[] | undefined) ?? []) shorten(child, false);
  };
  shorten(config.route, true);
  config.global = { ...config.global, resolve_timeout: '10s' };
  for (const receiver of config.receivers)
    for (const hook of receiver.webhook_configs ?? [])
      hook.url = hook.url.replace(/^http:\/\/alert-logger:9095/, webhookBase);
  return config;
}

let mock: MockExchange;
let service: LiveService;
let prometheus: LivePrometheus;
let alertmanager: LiveAlertmanager;
let logger: Server;
let rulesDir: string;
const notified: Notified[] = [];
let faultAt = 0;

const alerts = async () => (await prometheus.api<{ alerts: Alert[] }>('/api/v1/alerts')).alerts;
const ruleGroups = async () => (await prometheus.api<{ groups: RuleGroup[] }>('/api/v1/rules')).groups;
const active = (list: Alert[], name: string) =>
  list.filter((a) => a.labels.alertname === name && (a.state === 'pending' || a.state === 'firing'));
/** The alerts of one rule, from the repo's files or from the test-only copies. */
async function alertsOfRule(name: string, from: 'repo' | 'fast'): Promise<Alert[]> {
  const groups = (await ruleGroups()).filter((g) => (g.name === FAST_GROUP) === (from === 'fast'));
  return groups.flatMap((g) => g.rules.filter((r) => r.name === name).flatMap((r) => r.alerts ?? []));
}
async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const data = await prometheus.api<{
    result: { metric: Record<string, string>; value: [number, string] }[];
  }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
  return data.result;
}
const notifications = (alertname: string, status: Notified['status'], route?: string) =>
  notified.filter(
    (n) => n.alertname === alertname && n.status === status && (route ? n.route === route : true),
  );
/** Context for a failure message: what each process was doing. */
const context = () =>
  `\nnotifications: ${JSON.stringify(notified.map((n) => [n.route, n.status, n.alertname]))}` +
  `\nprometheus output:\n${prometheus.output().slice(-3000)}\nalertmanager output:\n${alertmanager.output().slice(-2000)}` +
  `\nservice output:\n${service.output().slice(-2000)}`;
/**
 * Price requests every 50 ms: the stale answers the service gives (up to MAX_STALENESS, 30 s here, after
 * the last good price) are what PriceServedStale counts.
 */
let asking: Promise<void> | undefined;
let keepAsking = false;
function startAsking(): void {
  keepAsking = true;
  asking = (async () => {
    while (keepAsking) {
      await service.request('/api/v1/prices/eth-usdt').catch(() => undefined);
      await new Promise((done) => setTimeout(done, 50));
    }
  })();
}
async function stopAsking(): Promise<void> {
  keepAsking = false;
  await asking;
}
const log = (msg: string) => process.stdout.write(`[live-alerts] ${msg}\n`);

beforeAll(async () => {
  logger = createAlertLogger((line) =>
    notified.push({ at: Date.now(), ...(JSON.parse(line) as Omit<Notified, 'at'>) }),
  );
  await new Promise<void>((done) => logger.listen(0, '127.0.0.1', done));
  const loggerPort = (logger.address() as AddressInfo).port;

  rulesDir = mkdtempSync(join(tmpdir(), 'price-fast-rules-'));
  const fastRules = alertRules
    .filter((r) => r.alert in FAST_FOR)
    .map((r) => ({
      alert: r.alert,
      expr: r.expr,
      for: FAST_FOR[r.alert],
      labels: r.labels,
      annotations: r.annotations,
    }));
  const fastFile = join(rulesDir, 'fast-copies.yml');
  writeFileSync(fastFile, dump({ groups: [{ name: FAST_GROUP, rules: fastRules }] }));

  mock = await startMockExchange();
  [service, alertmanager] = await Promise.all([
    startLiveService({
      MOCK_EXCHANGE_URL: mock.url,
      REFRESH_INTERVAL_MS: '250',
      CACHE_TTL: '1',
      MAX_STALENESS: '30',
    }),
    startAlertmanager(testAlertmanagerConfig(`http://127.0.0.1:${loggerPort}`)),
  ]);
  prometheus = await startPrometheus(`127.0.0.1:${service.metricsPort}`, {
    alertmanager: alertmanager.address,
    extraRuleFiles: [fastFile],
    // Resolved and refreshed alerts reach Alertmanager within a second, not the default minute.
    flags: ['--rules.alert.resend-delay=1s'],
  });
}, 180_000);

afterAll(async () => {
  await stopAsking();
  await Promise.all([prometheus?.stop(), service?.stop(), alertmanager?.stop()]);
  await mock?.close();
  await new Promise<void>((done) => (logger ? logger.close(() => done()) : done()));
  if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
});

describe('Prometheus with the repo configuration and rules, scraping the live service', () => {
  it('When the target is discovered, then it is up with the instance and service labels of the relabelling', async () => {
    const { activeTargets } = await prometheus.api<{ activeTargets: PrometheusTarget[] }>('/api/v1/targets');
    expect(activeTargets.map((t) => ({ labels: t.labels, health: t.health }))).toEqual([
      {
        labels: { job: SERVICE_JOB, instance: '127.0.0.1', service: 'price-service' },
        health: 'up',
      },
    ]);
  });

  it('When the rules have been evaluated, then every rule of the repo is loaded and none fails to evaluate', async () => {
    const groups = await eventually(
      async () => (await ruleGroups()).filter((g) => g.name !== FAST_GROUP),
      (gs) => gs.length > 0 && gs.every((g) => g.rules.every((r) => r.health !== 'unknown')),
      { timeoutMs: 10_000, intervalMs: 250, what: 'every rule evaluated once' },
    );
    expect(new Set(groups.map((g) => g.file))).toEqual(new Set(RULE_FILES));
    const loaded = groups.flatMap((g) => g.rules.map((r) => r.name)).sort();
    expect(loaded).toEqual(
      [...loadAlertRules().map((r) => r.alert), ...loadRecordingRules().map((r) => r.record)].sort(),
    );
    const failing = groups.flatMap((g) =>
      g.rules.filter((r) => r.health !== 'ok').map((r) => `${g.name}/${r.name}: ${r.lastError ?? r.health}`),
    );
    expect(failing).toEqual([]);
  });

  it('When the rules are evaluated, then the Watchdog fires with its severity', async () => {
    const list = await eventually(alerts, (l) => l.some((a) => a.labels.alertname === 'Watchdog'), {
      timeoutMs: 10_000,
      intervalMs: 250,
      what: 'the Watchdog alert',
    });
    const watchdog = active(list, 'Watchdog');
    expect(watchdog.map((a) => [a.state, a.labels])).toEqual([
      ['firing', { alertname: 'Watchdog', severity: watchdogRule?.labels.severity }],
    ]);
    expect(watchdogRule?.labels.severity).toBe('info');
  });

  it('When the Watchdog fires, then Alertmanager delivers it to the watchdog receiver (the dead man’s switch)', async () => {
    const [heartbeat] = await eventually(
      async () => notifications('Watchdog', 'firing'),
      (n) => n.length > 0,
      { timeoutMs: 10_000, intervalMs: 100, what: `the Watchdog at the webhook${context()}` },
    );
    expect(heartbeat).toMatchObject({
      route: 'watchdog',
      receiver: 'watchdog',
      labels: { alertname: 'Watchdog', severity: 'info', ...EXTERNAL_LABELS },
      runbook_url: watchdogRule?.annotations.runbook_url,
    });
  });

  it('When every source is healthy, then Prometheus sees the full quorum and only the Watchdog is active', async () => {
    const sources = await eventually(
      () => query(`max by (job, pair) (price_quorum_sources{job="${SERVICE_JOB}"})`),
      (r) => r.length === 1 && r[0]?.value[1] === '6',
      { timeoutMs: 10_000, intervalMs: 250, what: 'quorum of 6 in Prometheus' },
    );
    expect(sources[0]?.metric).toEqual({ job: SERVICE_JOB, pair: 'eth-usdt' });
    // Polled too: with 1 s scrapes on a busy box one scrape can time out, and its staleness markers empty
    // every series until the next one.
    await eventually(
      () => query(`max by (job) (price_quorum_min_sources{job="${SERVICE_JOB}"})`),
      (r) => r[0]?.value[1] === '3',
      { timeoutMs: 5000, intervalMs: 250, what: 'quorum minimum of 3 in Prometheus' },
    );
    // PriceServiceDown may be pending from evaluations before the first scrape: it must clear, as must all.
    // RedisUnreachable has its own test below.
    const names = async () =>
      (await alerts())
        .filter((a) => a.state !== 'inactive' && a.labels.alertname !== 'RedisUnreachable')
        .map((a) => `${a.labels.alertname}:${a.state}`);
    expect(
      await eventually(names, (n) => n.length === 1, {
        timeoutMs: 5000,
        intervalMs: 250,
        what: 'steady state',
      }),
    ).toEqual(['Watchdog:firing']);
  });

  it('When the service runs without Redis (REDIS_URL unset), then it exports no redis_connection_up and RedisUnreachable stays silent', async () => {
    // The rule's contract (alerts.yml) and the metric's help text: absent when Redis is not configured, so
    // an L1-only deployment never pages. A 0 here would make RedisUnreachable fire 2 minutes after start.
    expect(await query(`redis_connection_up{job="${SERVICE_JOB}"}`)).toEqual([]);
    expect((await alerts()).filter((a) => a.labels.alertname === 'RedisUnreachable')).toEqual([]);
  });

  it(`When every source of the mock exchange fails, then the repo's ${QUORUM_ALERT} goes pending with severity critical`, async () => {
    expect(quorumRule?.labels.severity).toBe('critical');
    expect(quorumRule?.for).toBe('2m');
    faultAt = Date.now();
    await mockExchangeClient(mock.url).setFault('*', { type: 'status', status: 500 });
    const list = await eventually(
      () => alertsOfRule(QUORUM_ALERT, 'repo'),
      (l) => l.length > 0,
      {
        timeoutMs: 15_000,
        intervalMs: 250,
        what: `${QUORUM_ALERT} pending or firing${context()}`,
      },
    );
    log(`${QUORUM_ALERT} active ${Date.now() - faultAt} ms after the fault`);
    const [alert, ...others] = list;
    expect(others).toEqual([]);
    // `for: 2m`: pending for two minutes before it may fire, longer than this test runs.
    expect(alert?.state).toBe('pending');
    expect(alert?.labels).toEqual({
      alertname: QUORUM_ALERT,
      severity: 'critical',
      job: SERVICE_JOB,
      pair: 'eth-usdt',
    });
    expect(Number(alert?.value)).toBeLessThan(3);
    expect(alert?.annotations.summary).toBe('Price quorum lost: no new price is being published.');
    expect(alert?.annotations.runbook_url).toBe(quorumRule?.annotations.runbook_url);
  });
});

describe('Alertmanager on the repo routing delivers the alerts to the webhook receiver', () => {
  it(`When the fast copy of ${QUORUM_ALERT} fires, then the page receiver gets it with its labels, group and runbook`, async () => {
    const [page] = await eventually(
      async () => notifications(QUORUM_ALERT, 'firing'),
      (n) => n.length > 0,
      { timeoutMs: 15_000, intervalMs: 100, what: `${QUORUM_ALERT} at the webhook${context()}` },
    );
    log(`${QUORUM_ALERT} notified on /${page?.route} ${(page?.at ?? 0) - faultAt} ms after the fault`);
    // Only now the stale answers PriceServedStale counts: the page is in Alertmanager before the warning
    // exists, so the inhibition does not depend on how fast a busy machine evaluates.
    startAsking();
    expect(page).toMatchObject({
      route: 'page',
      receiver: 'page',
      status: 'firing',
      labels: {
        alertname: QUORUM_ALERT,
        severity: 'critical',
        job: SERVICE_JOB,
        pair: 'eth-usdt',
        ...EXTERNAL_LABELS,
      },
      group_labels: { alertname: QUORUM_ALERT, job: SERVICE_JOB },
      summary: quorumRule?.annotations.summary,
      runbook_url: runbookUrl(QUORUM_ALERT, DEFAULT_RUNBOOK_URL_BASE),
    });
    expect(notifications(QUORUM_ALERT, 'firing').every((n) => n.route === 'page')).toBe(true);
  });

  it(`When ${STALE_ALERT} fires while ${QUORUM_ALERT} pages, then Alertmanager inhibits it and no ticket is sent`, async () => {
    expect(staleRule?.labels.severity).toBe('warning');
    try {
      await eventually(
        async () => (await alertsOfRule(STALE_ALERT, 'fast')).filter((a) => a.state === 'firing'),
        (l) => l.length > 0,
        { timeoutMs: 20_000, intervalMs: 250, what: `${STALE_ALERT} firing in Prometheus${context()}` },
      );
    } finally {
      await stopAsking();
    }
    log(`${STALE_ALERT} firing in Prometheus ${Date.now() - faultAt} ms after the fault`);
    expect(notifications(QUORUM_ALERT, 'firing').length).toBeGreaterThan(0);
    const amAlerts = await eventually(
      () => alertmanager.api<AmAlert[]>('/api/v2/alerts'),
      (list) => list.some((a) => a.labels.alertname === STALE_ALERT),
      { timeoutMs: 10_000, intervalMs: 100, what: `${STALE_ALERT} in Alertmanager${context()}` },
    );
    const page = amAlerts.find((a) => a.labels.alertname === QUORUM_ALERT);
    const stale = amAlerts.find((a) => a.labels.alertname === STALE_ALERT);
    expect(page?.status.state).toBe('active');
    expect(stale?.labels).toMatchObject({ severity: 'warning', job: SERVICE_JOB, pair: 'eth-usdt' });
    expect(stale?.status).toEqual({ state: 'suppressed', inhibitedBy: [page?.fingerprint], silencedBy: [] });
    // Longer than the ticket route's group_wait and group_interval (1 s each here): it would have arrived.
    await new Promise((done) => setTimeout(done, 2500));
    expect(notifications(STALE_ALERT, 'firing')).toEqual([]);
  });

  it(`When the sources recover, then ${QUORUM_ALERT} leaves Prometheus and a resolved notification follows on the page receiver`, async () => {
    const recoveredAt = Date.now();
    await mockExchangeClient(mock.url).clearFault('*');
    const list = await eventually(alerts, (l) => active(l, QUORUM_ALERT).length === 0, {
      timeoutMs: 15_000,
      intervalMs: 250,
      what: `${QUORUM_ALERT} gone${context()}`,
    });
    log(`${QUORUM_ALERT} gone from Prometheus ${Date.now() - recoveredAt} ms after recovery`);
    expect(list.filter((a) => a.labels.alertname === QUORUM_ALERT)).toEqual([]);
    expect(active(list, 'Watchdog').map((a) => a.state)).toEqual(['firing']);
    const [resolved] = await eventually(
      async () => notifications(QUORUM_ALERT, 'resolved'),
      (n) => n.length > 0,
      { timeoutMs: 15_000, intervalMs: 100, what: `${QUORUM_ALERT} resolved at the webhook${context()}` },
    );
    log(
      `${QUORUM_ALERT} resolved on /${resolved?.route} ${(resolved?.at ?? 0) - recoveredAt} ms after recovery`,
    );
    const firing = notifications(QUORUM_ALERT, 'firing')[0];
    expect(resolved).toMatchObject({ route: 'page', receiver: 'page', labels: firing?.labels });
    expect(resolved?.at).toBeGreaterThan(firing?.at ?? Infinity);
    expect(Date.parse(resolved?.ends_at ?? '')).toBeLessThanOrEqual(Date.now());
  });

  it(`When the page has resolved, then ${STALE_ALERT} is no longer inhibited and reaches the ticket receiver`, async () => {
    // Proof that the inhibition, not the routing, held it back: the same alert now goes through.
    const [ticket] = await eventually(
      async () => notifications(STALE_ALERT, 'firing'),
      (n) => n.length > 0,
      { timeoutMs: 15_000, intervalMs: 100, what: `${STALE_ALERT} at the webhook${context()}` },
    );
    expect(ticket).toMatchObject({
      route: 'ticket',
      receiver: 'ticket',
      labels: {
        alertname: STALE_ALERT,
        severity: 'warning',
        job: SERVICE_JOB,
        pair: 'eth-usdt',
        ...EXTERNAL_LABELS,
      },
      group_labels: { alertname: STALE_ALERT, job: SERVICE_JOB },
      runbook_url: staleRule?.annotations.runbook_url,
    });
    await eventually(
      () => query(`max by (job, pair) (price_quorum_sources{job="${SERVICE_JOB}"})`),
      (r) => Number(r[0]?.value[1]) >= 3,
      { timeoutMs: 5000, intervalMs: 250, what: 'the quorum back in Prometheus' },
    );
  });
});
