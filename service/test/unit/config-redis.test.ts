import { loadConfig } from '../../src/config';
import { problemsOf } from './config-problems';

describe('loadConfig: Redis topologies', () => {
  test('When REDIS_URL is set, then it is the single-node topology, TLS and credentials in the URL', () => {
    expect(loadConfig({ REDIS_URL: 'rediss://u:p@redis.example:6380/2' }).redis).toStrictEqual({
      url: 'rediss://u:p@redis.example:6380/2',
      topology: { kind: 'single', url: 'rediss://u:p@redis.example:6380/2' },
      keyPrefix: 'price-service:',
      commandTimeoutMs: 250,
    });
  });

  test('When REDIS_SENTINELS and REDIS_SENTINEL_NAME are set, then the Sentinel topology has every sentinel, the credentials and TLS', () => {
    const config = loadConfig({
      REDIS_SENTINELS: '10.0.0.1:26379, 10.0.0.2, [::1]:26380',
      REDIS_SENTINEL_NAME: 'prices',
      REDIS_PASSWORD: 'data-secret',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_TLS: 'true',
    });
    expect(config.redis.url).toBeUndefined();
    expect(config.redis.topology).toStrictEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'prices',
      username: undefined,
      password: 'data-secret',
      sentinelUsername: undefined,
      sentinelPassword: 'sentinel-secret',
      tls: true,
    });
  });

  test('When REDIS_CLUSTER_NODES is set, then the Cluster topology has the seed nodes (default port 6379)', () => {
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: 'a.redis:7000,b.redis', REDIS_USERNAME: 'svc', REDIS_PASSWORD: 'pw' })
        .redis.topology,
    ).toStrictEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a.redis', port: 7000 },
        { host: 'b.redis', port: 6379 },
      ],
      username: 'svc',
      password: 'pw',
      tls: false,
    });
  });

  test('When more than one topology is set, then that is a problem', () => {
    expect(problemsOf({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' })).toEqual([
      'REDIS_URL, REDIS_CLUSTER_NODES: set only one of them (one node, Sentinel or Cluster)',
    ]);
  });

  test('When every Redis setting is wrong at once, then each problem is listed, with the others', () => {
    expect(
      problemsOf({
        REDIS_SENTINELS: '10.0.0.1:26379,bad host,10.0.0.3:99999',
        REDIS_TLS: 'yes',
        REDIS_KEY_PREFIX: '{svc}:',
        LOG_LEVEL: 'loud',
      }),
    ).toEqual([
      'LOG_LEVEL: Invalid option: expected one of "error"|"warn"|"info"|"debug"',
      'REDIS_TLS: must be true or false',
      'REDIS_KEY_PREFIX: must not contain { or }: the keys carry their own hash tag per pair',
      'REDIS_SENTINELS: "bad host" is not host:port (e.g. 10.0.0.5:26379 or [::1]:26379)',
      'REDIS_SENTINELS: "10.0.0.3:99999" is not host:port (e.g. 10.0.0.5:26379 or [::1]:26379)',
      'REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master name the sentinels monitor)',
    ]);
  });

  test('When credentials or TLS are set beside REDIS_URL, or Sentinel settings without sentinels, then they are problems', () => {
    expect(
      problemsOf({
        REDIS_URL: 'redis://a:6379',
        REDIS_PASSWORD: 'x',
        REDIS_TLS: 'true',
        REDIS_SENTINEL_NAME: 'm',
      }),
    ).toEqual([
      'REDIS_PASSWORD, REDIS_TLS: not with REDIS_URL: put credentials in the URL (redis://user:password@host:port) and use rediss:// for TLS',
      'REDIS_SENTINEL_NAME: only with REDIS_SENTINELS',
    ]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINEL_PASSWORD: 'x' })).toEqual([
      'REDIS_SENTINEL_PASSWORD: only with REDIS_SENTINELS',
    ]);
  });

  test('When Redis credentials are set but no Redis is, then that is a problem rather than silently L1 only', () => {
    expect(problemsOf({ REDIS_PASSWORD: 'x' })).toEqual([
      'REDIS_PASSWORD: set only with REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (Redis is off without one)',
    ]);
  });
});
