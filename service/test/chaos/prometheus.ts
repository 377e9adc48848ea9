/**
 * A real Prometheus scraping every replica of the chaos run each second and evaluating the repo's own rule
 * files (monitoring/prometheus/rules/*.yml, read in place) each second. monitoring/test/live.ts has a
 * starter for one target whose relabelling makes `instance` the host without the port; here the replicas
 * share 127.0.0.1, so the targets keep host:port as their instance, or they would collapse into one.
 *
 * Alerts have `for:` durations of minutes; a chaos fault lasts seconds. What the suite reports is every
 * alert that is pending or firing during a fault: its expression was true on the scraped metrics.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../../scripts/lib/free-port';
import { startProcess, stopProcess, waitFor } from '../../../scripts/lib/local-stack';
import { REPO_ROOT } from '../../../scripts/lib/local-stack';

export interface ChaosPrometheus {
  readonly url: string;
  /** Names of the alerts pending or firing now, with their state (Watchdog left out). */
  activeAlerts(): Promise<Map<string, 'pending' | 'firing'>>;
  /** An instant query; the number of series it returns. */
  count(expr: string): Promise<number>;
  stop(): Promise<void>;
}

export function prometheusInstalled(): boolean {
  return spawnSync('prometheus', ['--version']).error === undefined;
}

export async function startChaosPrometheus(targets: readonly string[]): Promise<ChaosPrometheus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'chaos-prometheus-'));
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [path.join(REPO_ROOT, 'monitoring/prometheus/rules/*.yml')],
    scrape_configs: [
      {
        job_name: 'price-service',
        metrics_path: '/metrics',
        static_configs: [{ targets: [...targets], labels: { service: 'price-service' } }],
      },
    ],
  };
  // JSON is YAML.
  writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = startProcess('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);

  async function api<T>(apiPath: string): Promise<T> {
    const response = await fetch(`${url}${apiPath}`, { signal: AbortSignal.timeout(3000) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${apiPath}: ${body.error ?? response.status}`);
    return body.data;
  }

  await waitFor('prometheus ready', async () => (await fetch(`${url}/-/ready`)).status === 200, 20_000, 100);
  await waitFor(
    'prometheus scraping every replica',
    async () => {
      const data = await api<{ activeTargets: { health: string }[] }>('/api/v1/targets');
      return (
        data.activeTargets.length === targets.length && data.activeTargets.every((t) => t.health === 'up')
      );
    },
    20_000,
    250,
  );

  return {
    url,
    async activeAlerts() {
      const data = await api<{ alerts: { labels: Record<string, string>; state: string }[] }>(
        '/api/v1/alerts',
      );
      const result = new Map<string, 'pending' | 'firing'>();
      for (const alert of data.alerts) {
        const name = alert.labels.alertname ?? '?';
        if (name === 'Watchdog') continue;
        const state = alert.state === 'firing' ? 'firing' : 'pending';
        if (result.get(name) !== 'firing') result.set(name, state);
      }
      return result;
    },
    async count(expr: string) {
      const data = await api<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      return data.result.length;
    },
    async stop() {
      await stopProcess(child, 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
