import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compose, get, must, REPO, run, waitFor } from './docker';
import { expectNone, type Report } from './report';

const FILES = ['docker-compose.yml', 'docker-compose.monitoring.yml'];
/** The parts of the monitoring stack whose images can be built here (Debian ships the programs). */
const RUNNABLE = ['price-service', 'redis', 'prometheus', 'alertmanager', 'alert-logger'];
/** Their images exist only in a registry: `docker compose config` and the offline tests cover them. */
export const NOT_RUNNABLE = ['grafana', 'loki', 'tempo', 'alloy', 'otel-collector', 'promtail'];

interface PromTarget {
  labels: { job: string; instance: string };
  health: string;
  lastError: string;
}

async function ruleGroupsInRepo(): Promise<number> {
  const dir = join(REPO, 'monitoring/prometheus/rules');
  let groups = 0;
  for (const file of await readdir(dir))
    if (file.endsWith('.yml'))
      groups += ((await readFile(join(dir, file), 'utf8')).match(/^ {2}- name: /gm) ?? []).length;
  return groups;
}

/** Prometheus and Alertmanager on the compose network against the service container: targets, rules, an alert routed. */
export async function checkMonitoring(report: Report): Promise<void> {
  const stack = compose(FILES);
  await report.check(
    'monitoring overlay: docker compose config (every service, the profile too)',
    async () => {
      const out = await stack.must(['--profile', 'promtail', 'config', '--services']);
      const services = out.trim().split('\n');
      const missing = [...RUNNABLE, ...NOT_RUNNABLE].filter((s) => !services.includes(s));
      return expectNone(
        missing.map((s) => `${s} missing`),
        `${services.length} services resolve`,
      );
    },
  );

  const up = await report.check(
    `monitoring stack (${RUNNABLE.slice(2).join(', ')} on stand-ins) up`,
    async () => {
      const config = JSON.parse(await stack.must(['config', '--format', 'json'])) as {
        services: Record<string, { image?: string }>;
      };
      const versions = await Promise.all(
        ['prometheus', 'alertmanager', 'alert-logger'].map(async (s) => {
          const image = config.services[s]?.image ?? '';
          const label = (
            await run('docker', [
              'image',
              'inspect',
              '-f',
              '{{index .Config.Labels "org.opencontainers.image.description"}}',
              image,
            ])
          ).stdout.trim();
          return `${image}${label.startsWith('STAND-IN') ? ` = ${label.split(':')[1]?.split(',')[0]?.trim()}` : ''}`;
        }),
      );
      report.figure('monitoring images', versions.join('; '));
      // --no-deps: the service's dependency on the collector (an image not buildable here) is left out.
      await stack.must(['up', '-d', '--no-deps', ...RUNNABLE]);
      await waitFor(
        'Prometheus ready',
        async () => ((await get('http://127.0.0.1:9090/-/ready', 1000)).status === 200 ? true : undefined),
        60_000,
      );
      await waitFor(
        'Alertmanager ready',
        async () => ((await get('http://127.0.0.1:9093/-/ready', 1000)).status === 200 ? true : undefined),
        60_000,
      );
      return 'Prometheus :9090 and Alertmanager :9093 ready';
    },
  );
  if (!up) return;

  await report.check('Prometheus: every target up, every rule group loaded', async () => {
    const targets = await waitFor(
      'every target up',
      async () => {
        const body = JSON.parse((await get('http://127.0.0.1:9090/api/v1/targets')).body) as {
          data: { activeTargets: PromTarget[] };
        };
        const active = body.data.activeTargets;
        const jobs = new Set(active.map((t) => t.labels.job));
        return active.every((t) => t.health === 'up') &&
          ['price-service', 'prometheus', 'alertmanager'].every((j) => jobs.has(j))
          ? active
          : undefined;
      },
      60_000,
      1000,
    );
    const rules = JSON.parse((await get('http://127.0.0.1:9090/api/v1/rules')).body) as {
      data: { groups: { name: string; rules: unknown[] }[] };
    };
    const expected = await ruleGroupsInRepo();
    const loaded = rules.data.groups.length;
    const ruleCount = rules.data.groups.reduce((n, g) => n + g.rules.length, 0);
    const problems =
      loaded === expected ? [] : [`${loaded} rule groups loaded, ${expected} in monitoring/prometheus/rules`];
    return expectNone(
      problems,
      `${targets.length} targets up (${targets.map((t) => t.labels.job).join(', ')}), ${loaded} groups / ${ruleCount} rules loaded`,
    );
  });

  await report.check(
    'an alert routed: Watchdog from Prometheus through Alertmanager to the alert logger',
    async () => {
      const logger = await stack.id('alert-logger');
      const line = await waitFor(
        'the Watchdog notification in the alert logger output',
        async () => {
          const logs = await must('docker', ['logs', logger]);
          return logs.split('\n').find((l) => l.includes('"Watchdog"'));
        },
        90_000,
        1000,
      );
      return `alert logger printed: ${line.slice(0, 140)}`;
    },
  );

  await report.check('monitoring stack down, named data volumes removed by this test', async () => {
    // make monitoring-down keeps the named volumes (a user's dashboards and history); the test removes them.
    await stack.must(['down', '--volumes', '--remove-orphans']);
    return 'down -v';
  });
}
