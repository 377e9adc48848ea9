import type { Config } from '../config';
import { exposeRegistry } from '../observability/metrics-server';
import type { Common } from './common';
import { createHistoryStore, startHistoryWriter } from './history';
import { buildRefresher } from './refresher';
import { listenMetrics } from './servers';
import { buildServing, type ShutdownStep } from './serving';

export interface SingleProcess {
  readonly apiPort: number;
  readonly metricsPort: number;
  /** Starts the refresher: the first round runs at once. */
  start(): Promise<void>;
  readonly steps: readonly ShutdownStep[];
}

/**
 * WORKERS=0: the refresher, the API and /metrics in one process (small deployments, debugging, and the
 * integration tests, which start this same wiring on free ports). The refresher keeps running while the
 * connections drain, so what is served until the end stays fresh.
 */
export async function startSingleProcess(
  config: Config,
  common: Common,
  ports: { api?: number; metrics?: number } = {},
): Promise<SingleProcess> {
  const history = createHistoryStore(config);
  const historyWriter = startHistoryWriter(config, { ...common, history });
  const serving = buildServing(config, { ...common, history, port: ports.api });
  const { refresher, close: stopRefresher } = buildRefresher(config, {
    ...common,
    publish(snapshot) {
      serving.accept(snapshot);
      historyWriter.record(snapshot);
    },
  });
  const api = await serving.listen();
  const metricsServer = await listenMetrics(config, {
    logger: common.logger,
    port: ports.metrics,
    collect: (format) => exposeRegistry(common.metrics.registry, format),
  });
  return {
    apiPort: api.port,
    metricsPort: metricsServer.port,
    start: () => refresher.start(),
    steps: [
      ...serving.steps,
      { name: 'stop the refresher', run: stopRefresher },
      historyWriter.step,
      { name: 'close /metrics', run: () => metricsServer.close() },
      { name: 'close Redis', run: () => common.shared.close() },
    ],
  };
}
