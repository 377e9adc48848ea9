// Tracing first: instrumentation must patch http before anything imports it.
import './observability/tracing';
import cluster from 'node:cluster';
import type { Config } from './config';
import { configFromPrimary } from './config/worker-config';

// Each role requires only its own modules: a worker never needs the exchange clients (axios, opossum, the
// adapters), the refresher, the history writer, the Redis client or the settings' schemas, and loading them
// would cost every worker their memory. require, not import(): a plain CommonJS load, without bringing up
// the ESM loader in every process.
/* eslint-disable @typescript-eslint/no-require-imports */

/** A worker takes the config its primary validated; the primary (or the only process) reads the environment. */
function loadOwnConfig(): Config {
  const handed = cluster.isWorker ? configFromPrimary(process.env) : undefined;
  if (handed !== undefined) return handed;
  const { ConfigError, loadConfig } = require('./config') as typeof import('./config/index.js');
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee the configuration table in README.md.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

function run(config: Config): Promise<void> {
  if (config.workers === 0) {
    return (require('./cluster/standalone') as typeof import('./cluster/standalone.js')).runStandalone(
      config,
    );
  }
  if (cluster.isPrimary) {
    return (require('./cluster/primary') as typeof import('./cluster/primary.js')).runPrimary(config);
  }
  return (require('./cluster/worker') as typeof import('./cluster/worker.js')).runWorker(config);
}
/* eslint-enable @typescript-eslint/no-require-imports */

run(loadOwnConfig()).catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
