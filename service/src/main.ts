// Tracing first: instrumentation must patch http before anything imports it.
import './observability/tracing';
import cluster from 'node:cluster';
import { ConfigError, loadConfig, type Config } from './config';
import { runPrimary } from './cluster/primary';
import { runStandalone } from './cluster/standalone';
import { runWorker } from './cluster/worker';

let config: Config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nSee the configuration table in README.md.\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const run = config.workers === 0 ? runStandalone : cluster.isPrimary ? runPrimary : runWorker;
run(config).catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
