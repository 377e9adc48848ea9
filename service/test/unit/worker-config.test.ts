import { loadConfig } from '../../src/config';
import { configFromPrimary, workerConfigEnv, WORKER_CONFIG_ENV } from '../../src/config/worker-config';

// A cluster worker runs on the config its primary validated, handed over in its environment
// (worker-config.ts): the same config, undefined fields included, or the fork fails (a function in it).
const ENVS: Record<string, Record<string, string>> = {
  defaults: {},
  'one Redis node, rate limit, CORS, trusted proxies': {
    REDIS_URL: 'rediss://u:p@redis.example:6380/2',
    RATE_LIMIT_REQUESTS: '100',
    CORS_ALLOW_ORIGINS: 'https://app.example.com,http://localhost:3000',
    TRUSTED_PROXY_CIDRS: '10.0.0.0/8,fd00::/8',
  },
  Sentinel: {
    REDIS_SENTINELS: '10.0.0.1:26379, 10.0.0.2, [::1]:26380',
    REDIS_SENTINEL_NAME: 'prices',
    REDIS_PASSWORD: 'data-secret',
    REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    REDIS_TLS: 'true',
  },
  Cluster: {
    REDIS_CLUSTER_NODES: 'a.redis:7000,b.redis',
    SOURCES: 'binance,okx,kraken',
    PAIRS: 'eth-usdt,btc-usdt',
  },
};

describe('the config a primary hands its workers', () => {
  test.each(Object.entries(ENVS))(
    'When the environment is %s, then the worker gets the primary config exactly, frozen',
    (_name, env) => {
      const config = loadConfig(env);
      const handed = configFromPrimary(workerConfigEnv(config));
      expect(handed).toStrictEqual(config);
      expect(Object.isFrozen(handed)).toBe(true);
      expect(Object.isFrozen(handed?.redis)).toBe(true);
      expect(Object.isFrozen(handed?.sources)).toBe(true);
    },
  );

  test('When no config was handed over (the primary, or the only process), then there is none', () => {
    expect(configFromPrimary({ REDIS_URL: 'redis://x:6379' })).toBeUndefined();
    expect(Object.keys(workerConfigEnv(loadConfig({})))).toEqual([WORKER_CONFIG_ENV]);
  });
});
