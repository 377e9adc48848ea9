import { buildHttp } from '../../src/composition/http';
import { buildRefresher } from '../../src/composition/refresher';
import { createSharedCache } from '../../src/composition/common';
import { startHttpServer } from '../../src/infrastructure/http/http-server';
import { startMetricsServer } from '../../src/observability/metrics-server';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';

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
  UPSTREAM_TIMEOUT_MS: '300',
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
  const config = loadConfig({ ...TEST_ENV, ...env });
  const logger = createLogger({ level: config.logLevel, service: 'test', silent: !process.env.TEST_LOGS });
  const metrics = createMetrics({
    pairs: config.pairs.map((p) => p.slug),
    sources: config.sources.map((s) => s.name),
    defaultMetrics: false,
    redis: config.redis.topology !== undefined,
  });
  const shared = createSharedCache(config, { metrics, logger });
  let draining = false;
  const http = buildHttp(config, { metrics, logger, shared, isDraining: () => draining });
  const { refresher, close } = buildRefresher(config, {
    metrics,
    logger,
    shared,
    publish: (snapshot) => http.accept(snapshot),
  });
  const server = await startHttpServer({
    host: config.host,
    port: 0,
    backlog: config.listenBacklog,
    listener: http.listener,
    ...http.server,
  });
  metrics.setOpenConnectionsProvider(server.openConnections);
  const metricsServer = await startMetricsServer({
    host: config.host,
    port: 0,
    logger,
    collect: async () => ({
      contentType: metrics.registry.contentType,
      body: await metrics.registry.metrics(),
    }),
  });
  await refresher.start();
  const metricsUrl = `http://127.0.0.1:${metricsServer.port}/metrics`;
  return {
    url: `http://127.0.0.1:${server.port}`,
    metricsUrl,
    config,
    metricsText: async () => (await fetch(metricsUrl)).text(),
    async stop() {
      draining = true;
      http.stream.close();
      // No grace: the tests are done with their connections, and a pooled idle one must not hold up stop().
      await Promise.all([server.drain({ timeoutMs: 1000, idleGraceMs: 0 }), close()]);
      await metricsServer.close();
      await shared.close();
      await http.close();
    },
  };
}
