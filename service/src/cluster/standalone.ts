import type { Config } from '../config';
import { buildCommon } from '../composition/common';
import { startSingleProcess } from '../composition/single-process';
import { shutdownTracing } from '../observability/tracing';
import { createLifecycle } from './lifecycle';

/** WORKERS=0: the refresher, the API and /metrics in one process (small deployments, debugging). */
export async function runStandalone(config: Config): Promise<void> {
  const common = buildCommon(config);
  const lifecycle = createLifecycle({ logger: common.logger, deadlineMs: config.shutdownTimeoutMs + 2000 });
  lifecycle.handleSignals();
  const process = await startSingleProcess(config, common);
  lifecycle.setSteps([...process.steps, { name: 'flush traces', run: shutdownTracing }]);
  common.logger.info('service starting (single process)', {
    port: process.apiPort,
    metricsPort: process.metricsPort,
  });
  await process.start();
}
