import { buildCommon } from '../../src/composition/common';
import { startSingleProcess } from '../../src/composition/single-process';
import { loadConfig, type Config } from '../../src/config';

/** Fast settings for tests: short refresh interval and freshness windows, few retries. */
export const TEST_ENV: Readonly<Record<string, string>> = {
  WORKERS: '0',
  HOST: '127.0.0.1',
  PORT: '0',
  METRICS_PORT: '0',
  LOG_LEVEL: 'error',
  REFRESH_INTERVAL_MS: '200',
  CACHE_TTL: '1',
  MAX_STALENESS: '3',
  MAX_SOURCE_AGE_MS: '1000',
  // Not shorter: the mock exchange answers from the same busy jest worker, and no test waits on this timeout.
  UPSTREAM_TIMEOUT_MS: '2000',
  UPSTREAM_RETRIES: '1',
  UPSTREAM_RETRY_BASE_DELAY_MS: '10',
  BREAKER_VOLUME_THRESHOLD: '3',
  BREAKER_RESET_MS: '1500',
  REDIS_COMMAND_TIMEOUT_MS: '200',
  SHUTDOWN_TIMEOUT_MS: '2000',
};

export interface TestService {
  readonly url: string;
  readonly metricsUrl: string;
  readonly config: Config;
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The service in this process (WORKERS=0 wiring: refresher, API and /metrics), on free ports, over real
 * sockets. Each call builds its own instance, so a test can run two replicas side by side.
 */
export async function startService(env: Record<string, string>): Promise<TestService> {
  // No idle grace on stop: the tests are done with their connections, and a pooled idle one must not hold
  // stop() up.
  const config = loadConfig({ ...TEST_ENV, DRAIN_IDLE_GRACE_MS: '0', ...env });
  const common = buildCommon(config, { silentLogs: !process.env.TEST_LOGS, defaultMetrics: false });
  // The single-process wiring the service itself runs with WORKERS=0, on free ports.
  const service = await startSingleProcess(config, common, { api: 0, metrics: 0 });
  await service.start();
  const metricsUrl = `http://127.0.0.1:${service.metricsPort}/metrics`;
  return {
    url: `http://127.0.0.1:${service.apiPort}`,
    metricsUrl,
    config,
    metricsText: async () => (await fetch(metricsUrl)).text(),
    async stop() {
      for (const step of service.steps) await step.run();
    },
  };
}
