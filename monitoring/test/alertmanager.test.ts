import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAlertLogger } from '../alertmanager/alert-logger';
import { loadAlertRules } from './rules';
import { readYaml, repoPath } from './paths';

const CONFIG = 'monitoring/alertmanager/alertmanager.yml';

interface Route {
  receiver?: string;
  matchers?: string[];
  group_by?: string[];
  routes?: Route[];
}
interface AlertmanagerConfig {
  route: Route;
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
  receivers: { name: string; webhook_configs?: { url: string; send_resolved?: boolean }[] }[];
}
const config = readYaml<AlertmanagerConfig>(repoPath(CONFIG));

function amtool(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('amtool', args, { cwd: repoPath(), encoding: 'utf8', timeout: 20_000 });
  if (result.error) throw new Error(`amtool could not run (is it installed?): ${result.error.message}`);
  return { status: result.status, output: `$ amtool ${args.join(' ')}\n${result.stdout}${result.stderr}` };
}

/** The receiver Alertmanager's routing tree picks for a label set, according to amtool itself. */
function routeOf(labels: Record<string, string>): string {
  const result = amtool([
    'config',
    'routes',
    'test',
    `--config.file=${CONFIG}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
  ]);
  if (result.status !== 0) throw new Error(result.output);
  return result.output
    .split('\n')
    .slice(1)
    .join('\n')
    .replace(/Warning:.*\n?/g, '')
    .trim();
}

describe('Alertmanager configuration', () => {
  it('When amtool checks the config, then it is valid with its routes, inhibitions and receivers', () => {
    const result = amtool(['check-config', CONFIG]);
    if (result.status !== 0) throw new Error(result.output);
    expect(result.output).toContain('SUCCESS');
    expect(result.output).toContain('3 inhibit rules');
    expect(result.output).toContain('4 receivers');
  });

  it('When a critical alert is routed, then it goes to the page receiver', () => {
    expect(routeOf({ alertname: 'PriceQuorumLost', severity: 'critical', job: 'price-service' })).toBe(
      'page',
    );
    expect(
      routeOf({ alertname: 'PriceAvailabilityBudgetBurn', severity: 'critical', slo: 'availability' }),
    ).toBe('page');
  });

  it('When a warning alert is routed, then it goes to the ticket receiver', () => {
    expect(
      routeOf({ alertname: 'PriceAgeHigh', severity: 'warning', job: 'price-service', pair: 'eth-usdt' }),
    ).toBe('ticket');
  });

  it('When the Watchdog or an info alert is routed, then each has its own receiver', () => {
    expect(routeOf({ alertname: 'Watchdog', severity: 'info' })).toBe('watchdog');
    expect(routeOf({ alertname: 'SomethingInformational', severity: 'info' })).toBe('info');
  });

  it('When amtool is told to expect the wrong receiver, then the routing test fails', () => {
    const result = amtool([
      'config',
      'routes',
      'test',
      `--config.file=${CONFIG}`,
      '--verify.receivers=page',
      'severity=warning',
    ]);
    expect(result.status).not.toBe(0);
  });

  it('When every alert rule is routed by its labels, then it reaches the receiver of its severity', () => {
    const expected: Record<string, string> = { critical: 'page', warning: 'ticket', info: 'info' };
    for (const rule of loadAlertRules()) {
      const receiver = rule.alert === 'Watchdog' ? 'watchdog' : expected[rule.labels.severity as string];
      expect({ alert: rule.alert, receiver: routeOf({ alertname: rule.alert, ...rule.labels }) }).toEqual({
        alert: rule.alert,
        receiver,
      });
    }
  });

  it('When alerts are grouped, then one notification covers an alert name per job', () => {
    expect(config.route.group_by).toEqual(['alertname', 'job']);
  });

  it('When a critical alert fires, then warnings with the same alert name and job are inhibited', () => {
    expect(config.inhibit_rules[0]).toEqual({
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity=~"warning|info"'],
      equal: ['alertname', 'job'],
    });
  });

  it('When an inhibition names alerts, then those alerts exist in the rules', () => {
    const names = new Set(loadAlertRules().map((r) => r.alert));
    const named = config.inhibit_rules
      .flatMap((r) => [...r.source_matchers, ...r.target_matchers])
      .flatMap((m) => /^alertname=~?"(.+)"$/.exec(m)?.[1]?.split('|') ?? []);
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect(names).toContain(name);
  });

  it('When receivers are listed, then each works out of the box through the bundled alert-logger webhook', () => {
    expect(config.receivers.map((r) => [r.name, r.webhook_configs?.map((w) => w.url)])).toEqual([
      ['page', ['http://alert-logger:9095/page']],
      ['ticket', ['http://alert-logger:9095/ticket']],
      ['info', ['http://alert-logger:9095/info']],
      ['watchdog', ['http://alert-logger:9095/watchdog']],
    ]);
  });
});

describe('alert-logger (the out-of-the-box receiver)', () => {
  function post(port: number, path: string, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('When Alertmanager posts a notification, then each alert becomes one JSON log line', async () => {
    const lines: string[] = [];
    const server = createAlertLogger((line) => lines.push(line));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const payload = {
        receiver: 'page',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'PriceQuorumLost', severity: 'critical', pair: 'eth-usdt' },
            annotations: {
              summary: 'Quorum lost for eth-usdt',
              runbook_url:
                'https://github.com/eth-usdt-price-service/eth-usdt-price-service/blob/main/docs/runbooks/price-quorum-lost.md',
            },
            startsAt: '2026-11-28T03:00:00Z',
            fingerprint: 'abc',
          },
          { status: 'resolved', labels: { alertname: 'PriceAgeHigh', severity: 'warning' }, annotations: {} },
        ],
      };
      expect(await post(port, '/page', JSON.stringify(payload))).toBe(204);
      expect(lines).toHaveLength(2);
      const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(first).toMatchObject({
        level: 'error',
        msg: 'firing: PriceQuorumLost',
        service: 'alert-logger',
        route: 'page',
        receiver: 'page',
        alertname: 'PriceQuorumLost',
        severity: 'critical',
        summary: 'Quorum lost for eth-usdt',
        runbook_url:
          'https://github.com/eth-usdt-price-service/eth-usdt-price-service/blob/main/docs/runbooks/price-quorum-lost.md',
        labels: { alertname: 'PriceQuorumLost', severity: 'critical', pair: 'eth-usdt' },
      });
      expect(second).toMatchObject({ level: 'warn', msg: 'resolved: PriceAgeHigh', status: 'resolved' });
      expect(await post(port, '/page', 'not json')).toBe(400);
      expect(lines).toHaveLength(2);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
