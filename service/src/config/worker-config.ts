import { deserialize, serialize } from 'node:v8';
import type { Config } from './config-table';

/**
 * The validated config a cluster primary hands its workers, in their environment. A worker so does not load
 * the settings table and its schemas (zod, ~3.4 MB of heap in every worker) to parse again what the primary
 * has already checked, and every process of a replica runs on one config by construction. V8's structured
 * serialization rather than JSON: fields left undefined stay present and undefined, as loadConfig built them
 * (a spread of the config over defaults behaves the same in every process). A function in the config would
 * fail here, loudly, at the fork (a test covers every topology).
 */
export const WORKER_CONFIG_ENV = 'PRICE_SERVICE_WORKER_CONFIG';

/** The environment a primary adds for its workers. */
export function workerConfigEnv(config: Config): Record<string, string> {
  return { [WORKER_CONFIG_ENV]: serialize(config).toString('base64') };
}

/** The config the primary handed this worker, frozen like loadConfig's; undefined when there is none. */
export function configFromPrimary(env: NodeJS.ProcessEnv): Config | undefined {
  const encoded = env[WORKER_CONFIG_ENV];
  return encoded === undefined
    ? undefined
    : deepFreeze(deserialize(Buffer.from(encoded, 'base64')) as Config);
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
