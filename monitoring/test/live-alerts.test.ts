/**
 * The repo's alert rules evaluated by a real Prometheus against the real clustered service: the config is
 * monitoring/prometheus/prometheus.yml with a static target and 1 s intervals, the rules are the repo's
 * files. Every source of the mock exchange is made to fail, PriceQuorumLost must go pending (its `for: 2m`
 * keeps it from firing within a test) with its labels, then leave once the sources are back.
 */
import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
} from '../../mock-exchange/src/mock-exchange';
import { eventually } from '../../service/test/helpers/metrics';
import { SERVICE_JOB } from './known-metrics';
import {
  startLiveService,
  startPrometheus,
  type LivePrometheus,
  type LiveService,
  type PrometheusTarget,
} from './live';
import { loadAlertRules, loadRecordingRules } from './rules';

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  value: string;
}
interface RuleGroup {
  name: string;
  file: string;
  rules: { name: string; health: 'ok' | 'err' | 'unknown'; lastError?: string; type: string }[];
}

const QUORUM_ALERT = 'PriceQuorumLost';
const quorumRule = loadAlertRules().find((r) => r.alert === QUORUM_ALERT);
const watchdogRule = loadAlertRules().find((r) => r.alert === 'Watchdog');

let mock: MockExchange;
let service: LiveService;
let prometheus: LivePrometheus;

const alerts = async () => (await prometheus.api<{ alerts: Alert[] }>('/api/v1/alerts')).alerts;
const active = (list: Alert[], name: string) =>
  list.filter((a) => a.labels.alertname === name && (a.state === 'pending' || a.state === 'firing'));
async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const data = await prometheus.api<{
    result: { metric: Record<string, string>; value: [number, string] }[];
  }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
  return data.result;
}
/** Context for a failure message: what Prometheus and the service were doing. */
const context = () =>
  `\nprometheus output:\n${prometheus.output().slice(-3000)}\nservice output:\n${service.output().slice(-3000)}`;

beforeAll(async () => {
  mock = await startMockExchange();
  service = await startLiveService({
    MOCK_EXCHANGE_URL: mock.url,
    REFRESH_INTERVAL_MS: '250',
    CACHE_TTL: '1',
    MAX_STALENESS: '3',
  });
  prometheus = await startPrometheus(`127.0.0.1:${service.metricsPort}`);
}, 40_000);

afterAll(async () => {
  await Promise.all([prometheus?.stop(), service?.stop()]);
  await mock?.close();
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
      async () => (await prometheus.api<{ groups: RuleGroup[] }>('/api/v1/rules')).groups,
      (gs) => gs.length > 0 && gs.every((g) => g.rules.every((r) => r.health !== 'unknown')),
      { timeoutMs: 10_000, intervalMs: 250, what: 'every rule evaluated once' },
    );
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

  it(`When every source of the mock exchange fails, then ${QUORUM_ALERT} goes pending with severity critical`, async () => {
    expect(quorumRule?.labels.severity).toBe('critical');
    expect(quorumRule?.for).toBe('2m');
    const started = Date.now();
    await mockExchangeClient(mock.url).setFault('*', { type: 'status', status: 500 });
    const list = await eventually(alerts, (l) => active(l, QUORUM_ALERT).length > 0, {
      timeoutMs: 15_000,
      intervalMs: 250,
      what: `${QUORUM_ALERT} pending or firing${context()}`,
    });
    process.stdout.write(`[live-alerts] ${QUORUM_ALERT} active ${Date.now() - started} ms after the fault\n`);
    const [alert, ...others] = active(list, QUORUM_ALERT);
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

  it(`When the sources recover, then ${QUORUM_ALERT} leaves the active alerts and the Watchdog still fires`, async () => {
    const started = Date.now();
    await mockExchangeClient(mock.url).clearFault('*');
    const list = await eventually(alerts, (l) => active(l, QUORUM_ALERT).length === 0, {
      timeoutMs: 15_000,
      intervalMs: 250,
      what: `${QUORUM_ALERT} gone${context()}`,
    });
    process.stdout.write(`[live-alerts] ${QUORUM_ALERT} gone ${Date.now() - started} ms after recovery\n`);
    expect(list.filter((a) => a.labels.alertname === QUORUM_ALERT)).toEqual([]);
    expect(active(list, 'Watchdog').map((a) => a.state)).toEqual(['firing']);
    await eventually(
      () => query(`max by (job, pair) (price_quorum_sources{job="${SERVICE_JOB}"})`),
      (r) => Number(r[0]?.value[1]) >= 3,
      { timeoutMs: 5000, intervalMs: 250, what: 'the quorum back in Prometheus' },
    );
  });
});
