import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig } from '../../src/config';
import { problemsOf } from './config-problems';

const ALL_SOURCES = ['binance', 'okx', 'coinbase', 'kraken', 'kucoin', 'bybit'];

describe('loadConfig: defaults', () => {
  test('When the environment is empty, then every setting has its documented default', () => {
    expect(loadConfig({})).toStrictEqual({
      host: '0.0.0.0',
      port: 8000,
      metricsPort: 8001,
      listenBacklog: 4096,
      workers: availableParallelism(),
      logLevel: 'info',
      serviceName: 'eth-usdt-price-service',
      redis: { url: undefined, topology: undefined, keyPrefix: 'price-service:', commandTimeoutMs: 250 },
      pairs: [{ base: 'ETH', quote: 'USDT', symbol: 'ETH/USDT', slug: 'eth-usdt' }],
      sources: ALL_SOURCES.map((name) => ({ name, baseUrl: undefined })),
      price: {
        freshnessMs: 5000,
        maxStalenessMs: 60_000,
        refreshIntervalMs: 1000,
        minQuorum: 3,
        maxDeviationBps: 100,
        // CACHE_TTL (5 s) minus two refresh intervals (config-source-age.test.ts says why).
        maxSourceAgeMs: 3000,
      },
      upstream: {
        timeoutMs: 800,
        retries: 2,
        retryBaseDelayMs: 50,
        banCooldownMs: 60_000,
        breakerErrorThresholdPercent: 50,
        breakerVolumeThreshold: 3,
        breakerResetMs: 10_000,
      },
      history: { pointsRetentionMs: 86_400_000, minutesRetentionMs: 2_592_000_000, maxPendingPoints: 3_600 },
      shutdownTimeoutMs: 10_000,
      drainDelayMs: 0,
      drainIdleGraceMs: 1000,
      traceRequestsPerSecond: 10,
      limits: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        maxHeaderBytes: 16_384,
        maxBodyBytes: 1024,
        maxConnectionsPerWorker: 10_000,
      },
      rateLimit: { requests: 0, windowSeconds: 60, trustedProxyHops: 0, trustedProxyCidrs: [] },
      corsAllowOrigins: undefined,
      stream: {
        maxSubscribersPerWorker: 8000,
        maxSubscribersPerClient: 20,
        heartbeatMs: 15_000,
        maxLifetimeMs: 3_600_000,
        retryMs: 2000,
        maxBufferedBytes: 65_536,
      },
      hsts: undefined,
    });
  });

  test('When CACHE_TTL and MAX_STALENESS are set in seconds, then they become milliseconds', () => {
    const config = loadConfig({ CACHE_TTL: '7', MAX_STALENESS: '30' });
    expect(config.price.freshnessMs).toBe(7000);
    expect(config.price.maxStalenessMs).toBe(30_000);
  });

  test('When numbers have surrounding spaces, then they are trimmed', () => {
    expect(loadConfig({ PORT: ' 8080 ', WORKERS: '0' })).toMatchObject({ port: 8080, workers: 0 });
  });

  test('When REDIS_URL or any other variable is empty, then it counts as unset', () => {
    expect(loadConfig({ REDIS_URL: '' }).redis.url).toBeUndefined();
    expect(loadConfig({ PORT: '', PAIRS: '', MOCK_EXCHANGE_URL: '' })).toEqual(loadConfig({}));
  });

  test('When REDIS_URL is a redis:// or rediss:// URL, then it is kept as given', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379/0' }).redis.url).toBe('redis://cache:6379/0');
    expect(loadConfig({ REDIS_URL: 'rediss://cache:6380' }).redis.url).toBe('rediss://cache:6380');
  });

  test('When environment variables unrelated to the service are present, then they are ignored', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root' }).port).toBe(8000);
  });
});

describe('loadConfig: sources and pairs', () => {
  test('When MOCK_EXCHANGE_URL is set, then every source points at ${url}/${name}', () => {
    const config = loadConfig({ MOCK_EXCHANGE_URL: 'http://mock:9000' });
    expect(config.sources).toStrictEqual(
      ALL_SOURCES.map((name) => ({ name, baseUrl: `http://mock:9000/${name}` })),
    );
  });

  test('When MOCK_EXCHANGE_URL ends with slashes, then they are not doubled', () => {
    expect(loadConfig({ MOCK_EXCHANGE_URL: 'http://mock:9000//' }).sources[0]?.baseUrl).toBe(
      'http://mock:9000/binance',
    );
  });

  test('When SOURCE_BINANCE_URL is set as well, then it overrides the mock for binance only', () => {
    const config = loadConfig({
      MOCK_EXCHANGE_URL: 'http://mock:9000',
      SOURCE_BINANCE_URL: 'https://b.example/api/',
    });
    expect(config.sources[0]).toStrictEqual({ name: 'binance', baseUrl: 'https://b.example/api' });
    expect(config.sources[1]).toStrictEqual({ name: 'okx', baseUrl: 'http://mock:9000/okx' });
  });

  test('When only SOURCE_BINANCE_URL is set, then the other sources keep their production URL (undefined)', () => {
    const config = loadConfig({ SOURCE_BINANCE_URL: 'http://b.example' });
    expect(config.sources.map((s) => s.baseUrl)).toEqual([
      'http://b.example',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  test('When SOURCES lists names with spaces, empties and repeats, then each source appears once in order', () => {
    const config = loadConfig({ SOURCES: ' kraken, binance,,kraken ,okx', MIN_QUORUM: '2' });
    expect(config.sources.map((s) => s.name)).toEqual(['kraken', 'binance', 'okx']);
  });

  test('When PAIRS repeats a pair in another spelling, then it appears once', () => {
    const config = loadConfig({ PAIRS: 'eth-usdt, ETH/USDT, BTC/USDT' });
    expect(config.pairs.map((p) => p.symbol)).toEqual(['ETH/USDT', 'BTC/USDT']);
  });

  test('When SOURCES has an unknown name, then the problem names it and lists the known ones', () => {
    expect(problemsOf({ SOURCES: 'binance,okx,coinbase,nope' })).toEqual([
      'SOURCES: unknown source "nope" (known: binance, okx, coinbase, kraken, kucoin, bybit)',
    ]);
  });

  test('When one setting is bad and another pair of settings contradicts each other, then both are listed at once', () => {
    expect(problemsOf({ LOG_LEVEL: 'verbose', DRAIN_IDLE_GRACE_MS: '20000' })).toEqual([
      'LOG_LEVEL: Invalid option: expected one of "error"|"warn"|"info"|"debug"',
      'DRAIN_IDLE_GRACE_MS: 20000 plus DRAIN_DELAY_MS (0) must be shorter than SHUTDOWN_TIMEOUT_MS (10000)',
    ]);
  });

  test('When a field of a cross-check is itself bad, then only its own problem is listed, not the cross-check', () => {
    expect(problemsOf({ CACHE_TTL: 'x', MAX_STALENESS: '1' })).toEqual(['CACHE_TTL: must be a whole number']);
  });

  test('When PAIRS has an invalid pair, then the problem names it', () => {
    expect(problemsOf({ PAIRS: 'ETH/USDT,ETH' })).toEqual(['PAIRS: "ETH" is not a pair like ETH/USDT']);
  });

  test('When SOURCES and PAIRS list nothing, then each is reported as required', () => {
    expect(problemsOf({ SOURCES: ' , ', PAIRS: ',' })).toEqual([
      'PAIRS: at least one pair is required',
      'SOURCES: at least one source is required',
    ]);
  });
});

describe('loadConfig: field-level problems', () => {
  test('When several settings are bad at once, then one ConfigError lists every one of them', () => {
    let thrown: unknown;
    try {
      loadConfig({
        PORT: 'abc',
        WORKERS: '-1',
        LOG_LEVEL: 'loud',
        REDIS_URL: 'http://x',
        MOCK_EXCHANGE_URL: 'ftp://m',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toEqual([
      'PORT: must be a whole number',
      'WORKERS: must be a whole number',
      'LOG_LEVEL: Invalid option: expected one of "error"|"warn"|"info"|"debug"',
      'REDIS_URL: must be a redis:// or rediss:// URL',
      'MOCK_EXCHANGE_URL: must be an http(s) URL',
    ]);
    expect(error.message).toBe(`Invalid configuration (5 problems):\n  - ${error.problems.join('\n  - ')}`);
  });

  test('When SOURCES has an unknown name and other settings are bad too, then SOURCES is listed as well', () => {
    expect(
      problemsOf({
        PORT: 'abc',
        WORKERS: '-1',
        LOG_LEVEL: 'loud',
        SOURCES: 'binance,nope',
        REDIS_URL: 'http://x',
      }),
    ).toEqual([
      'PORT: must be a whole number',
      'WORKERS: must be a whole number',
      'LOG_LEVEL: Invalid option: expected one of "error"|"warn"|"info"|"debug"',
      'REDIS_URL: must be a redis:// or rediss:// URL',
      'SOURCES: unknown source "nope" (known: binance, okx, coinbase, kraken, kucoin, bybit)',
      // Its own fields parsed, so the cross-check runs too: one source left for a quorum of 3.
      'MIN_QUORUM: 3 is more than the 1 configured source(s)',
    ]);
  });

  test('When there is one problem, then the message says "1 problem"', () => {
    expect(() => loadConfig({ PORT: '65536' })).toThrow(
      new ConfigError(['PORT: Too big: expected number to be <=65535']),
    );
    expect(new ConfigError(['x: y']).message).toBe('Invalid configuration (1 problem):\n  - x: y');
  });

  test.each([
    ['PORT', '8080.5'],
    ['PORT', '1e3'],
    ['PORT', '0x1F'],
    ['METRICS_PORT', '-5'],
    ['CACHE_TTL', 'five'],
  ])('When %s is %p, then it must be a whole number', (name, value) => {
    expect(problemsOf({ [name]: value })).toEqual([`${name}: must be a whole number`]);
  });

  test.each([
    ['WORKERS', '257', 'Too big: expected number to be <=256'],
    ['CACHE_TTL', '0', 'Too small: expected number to be >=1'],
    ['REFRESH_INTERVAL_MS', '99', 'Too small: expected number to be >=100'],
    ['MIN_QUORUM', '0', 'Too small: expected number to be >=1'],
    ['LISTEN_BACKLOG', '0', 'Too small: expected number to be >=1'],
    ['LISTEN_BACKLOG', '65536', 'Too big: expected number to be <=65535'],
    ['DRAIN_IDLE_GRACE_MS', '60001', 'Too big: expected number to be <=60000'],
  ])('When %s is %p, then it is out of range', (name, value, message) => {
    expect(problemsOf({ [name]: value })).toEqual([`${name}: ${message}`]);
  });

  test('When LISTEN_BACKLOG is set, then the listener gets it; it must be a whole number', () => {
    expect(loadConfig({ LISTEN_BACKLOG: '65535' }).listenBacklog).toBe(65_535);
    expect(loadConfig({ LISTEN_BACKLOG: '1' }).listenBacklog).toBe(1);
    expect(problemsOf({ LISTEN_BACKLOG: 'many' })).toEqual(['LISTEN_BACKLOG: must be a whole number']);
  });

  test('When SOURCE_KRAKEN_URL is not an http(s) URL, then it is reported', () => {
    expect(problemsOf({ SOURCE_KRAKEN_URL: 'kraken.example' })).toEqual([
      'SOURCE_KRAKEN_URL: must be an http(s) URL',
    ]);
  });

  test('When LOG_LEVEL is upper case, then it is rejected', () => {
    expect(problemsOf({ LOG_LEVEL: 'INFO' })).toEqual([
      'LOG_LEVEL: Invalid option: expected one of "error"|"warn"|"info"|"debug"',
    ]);
  });
});

describe('loadConfig: cross-field problems (checked once every field parses)', () => {
  test('When MIN_QUORUM is more than the sources, then it is reported', () => {
    expect(problemsOf({ SOURCES: 'binance,okx', MIN_QUORUM: '3' })).toEqual([
      'MIN_QUORUM: 3 is more than the 2 configured source(s)',
    ]);
  });

  test('When MIN_QUORUM equals the number of sources, then it is accepted', () => {
    expect(loadConfig({ SOURCES: 'binance,okx', MIN_QUORUM: '2' }).price.minQuorum).toBe(2);
  });

  test('When MAX_STALENESS is below CACHE_TTL, then it is reported; equal is accepted', () => {
    expect(problemsOf({ CACHE_TTL: '10', MAX_STALENESS: '9' })).toEqual([
      'MAX_STALENESS: 9s must be at least CACHE_TTL (10s)',
    ]);
    expect(loadConfig({ CACHE_TTL: '10', MAX_STALENESS: '10' }).price.maxStalenessMs).toBe(10_000);
  });

  test('When REFRESH_INTERVAL_MS equals CACHE_TTL*1000, then it is reported; one less is accepted', () => {
    expect(problemsOf({ REFRESH_INTERVAL_MS: '5000' })).toEqual([
      'REFRESH_INTERVAL_MS: 5000 must be shorter than CACHE_TTL (5000 ms) or prices go stale between refreshes',
    ]);
    expect(loadConfig({ REFRESH_INTERVAL_MS: '4999' }).price.refreshIntervalMs).toBe(4999);
  });

  test('When CACHE_TTL is 1 s and the interval is left at its default, then the interval is reported (the source age follows CACHE_TTL)', () => {
    expect(problemsOf({ CACHE_TTL: '1' })).toEqual([
      'REFRESH_INTERVAL_MS: 1000 must be shorter than CACHE_TTL (1000 ms) or prices go stale between refreshes',
    ]);
  });

  test('When DRAIN_DELAY_MS plus DRAIN_IDLE_GRACE_MS reaches SHUTDOWN_TIMEOUT_MS, then it is reported; one less is accepted', () => {
    expect(
      problemsOf({ SHUTDOWN_TIMEOUT_MS: '3000', DRAIN_DELAY_MS: '2000', DRAIN_IDLE_GRACE_MS: '1000' }),
    ).toEqual([
      'DRAIN_IDLE_GRACE_MS: 1000 plus DRAIN_DELAY_MS (2000) must be shorter than SHUTDOWN_TIMEOUT_MS (3000)',
    ]);
    expect(
      loadConfig({ SHUTDOWN_TIMEOUT_MS: '3000', DRAIN_DELAY_MS: '2000', DRAIN_IDLE_GRACE_MS: '999' }),
    ).toMatchObject({ shutdownTimeoutMs: 3000, drainDelayMs: 2000, drainIdleGraceMs: 999 });
    // The default grace counts too: a short SHUTDOWN_TIMEOUT_MS needs a shorter one.
    expect(problemsOf({ SHUTDOWN_TIMEOUT_MS: '1000' })).toEqual([
      'DRAIN_IDLE_GRACE_MS: 1000 plus DRAIN_DELAY_MS (0) must be shorter than SHUTDOWN_TIMEOUT_MS (1000)',
    ]);
  });

  test('When DRAIN_IDLE_GRACE_MS is 0, then idle connections close as the listener does and only the delay is checked', () => {
    expect(loadConfig({ SHUTDOWN_TIMEOUT_MS: '1000', DRAIN_IDLE_GRACE_MS: '0' }).drainIdleGraceMs).toBe(0);
    expect(
      problemsOf({ SHUTDOWN_TIMEOUT_MS: '1000', DRAIN_DELAY_MS: '1000', DRAIN_IDLE_GRACE_MS: '0' }),
    ).toEqual(['DRAIN_DELAY_MS: 1000 must be shorter than SHUTDOWN_TIMEOUT_MS (1000)']);
  });

  test('When PORT equals METRICS_PORT, then it is reported unless both are 0', () => {
    expect(problemsOf({ PORT: '8001' })).toEqual(['METRICS_PORT: must differ from PORT']);
    expect(loadConfig({ PORT: '0', METRICS_PORT: '0' })).toMatchObject({ port: 0, metricsPort: 0 });
  });

  test('When several cross-field checks fail, then every one is listed in one ConfigError', () => {
    expect(
      problemsOf({
        SOURCES: 'binance,nope',
        MIN_QUORUM: '2',
        CACHE_TTL: '10',
        MAX_STALENESS: '5',
        REFRESH_INTERVAL_MS: '10000',
        PORT: '9000',
        METRICS_PORT: '9000',
        SHUTDOWN_TIMEOUT_MS: '5000',
        DRAIN_DELAY_MS: '5000',
        DRAIN_IDLE_GRACE_MS: '500',
      }),
    ).toEqual([
      'SOURCES: unknown source "nope" (known: binance, okx, coinbase, kraken, kucoin, bybit)',
      'MIN_QUORUM: 2 is more than the 1 configured source(s)',
      'MAX_STALENESS: 5s must be at least CACHE_TTL (10s)',
      'REFRESH_INTERVAL_MS: 10000 must be shorter than CACHE_TTL (10000 ms) or prices go stale between refreshes',
      'DRAIN_DELAY_MS: 5000 must be shorter than SHUTDOWN_TIMEOUT_MS (5000)',
      'DRAIN_IDLE_GRACE_MS: 500 plus DRAIN_DELAY_MS (5000) must be shorter than SHUTDOWN_TIMEOUT_MS (5000)',
      'METRICS_PORT: must differ from PORT',
    ]);
  });
});
