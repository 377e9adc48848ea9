export { ConfigError } from './config-error';
export type { Config } from './config-table';
export { loadConfig } from './load-config';
