import { loadConfig } from '../../src/config';
import { problemsOf } from './config-problems';

describe('loadConfig: abuse limits, rate limit and CORS', () => {
  test('When the limits are set, then they are taken as given', () => {
    const config = loadConfig({
      HEADERS_TIMEOUT_MS: '2000',
      REQUEST_TIMEOUT_MS: '5000',
      MAX_HEADER_BYTES: '8192',
      MAX_BODY_BYTES: '0',
      MAX_CONNECTIONS_PER_WORKER: '500',
    });
    expect(config.limits).toStrictEqual({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 5000,
      maxHeaderBytes: 8192,
      maxBodyBytes: 0,
      maxConnectionsPerWorker: 500,
    });
  });

  test('When a limit is out of range, then every one is reported', () => {
    expect(
      problemsOf({
        HEADERS_TIMEOUT_MS: '10',
        MAX_HEADER_BYTES: '100',
        MAX_BODY_BYTES: 'x',
        MAX_CONNECTIONS_PER_WORKER: '0',
        RATE_LIMIT_REQUESTS: '-5',
        RATE_LIMIT_WINDOW_SECONDS: '0',
        TRUSTED_PROXY_HOPS: '11',
      }),
    ).toEqual([
      'HEADERS_TIMEOUT_MS: Too small: expected number to be >=100',
      'MAX_HEADER_BYTES: Too small: expected number to be >=1024',
      'MAX_BODY_BYTES: must be a whole number',
      'MAX_CONNECTIONS_PER_WORKER: Too small: expected number to be >=1',
      'RATE_LIMIT_REQUESTS: must be a whole number',
      'RATE_LIMIT_WINDOW_SECONDS: Too small: expected number to be >=1',
      'TRUSTED_PROXY_HOPS: Too big: expected number to be <=10',
    ]);
  });

  test('When REQUEST_TIMEOUT_MS is shorter than HEADERS_TIMEOUT_MS, then it is reported; equal is fine', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '5000' })).not.toThrow();
    expect(problemsOf({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '4999' })).toEqual([
      'REQUEST_TIMEOUT_MS: 4999 must be at least HEADERS_TIMEOUT_MS (5000)',
    ]);
  });

  test('When the rate limit is set, then requests, window, proxy hops and proxy CIDRs are kept', () => {
    expect(
      loadConfig({
        RATE_LIMIT_REQUESTS: '600',
        RATE_LIMIT_WINDOW_SECONDS: '30',
        TRUSTED_PROXY_HOPS: '2',
        TRUSTED_PROXY_CIDRS: ' 10.0.0.0/8, 2001:DB8::/32 ,192.0.2.7',
      }).rateLimit,
    ).toStrictEqual({
      requests: 600,
      windowSeconds: 30,
      trustedProxyHops: 2,
      trustedProxyCidrs: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7/32'],
    });
  });

  test('When TRUSTED_PROXY_HOPS is above 0 without TRUSTED_PROXY_CIDRS, then it is reported with the other problems', () => {
    expect(problemsOf({ TRUSTED_PROXY_HOPS: '1', SOURCES: 'binance' })).toEqual([
      'MIN_QUORUM: 3 is more than the 1 configured source(s)',
      'TRUSTED_PROXY_HOPS: 1 needs TRUSTED_PROXY_CIDRS (the proxies X-Forwarded-For is taken from); without it any client could pick its own address',
    ]);
    expect(() => loadConfig({ TRUSTED_PROXY_CIDRS: '10.0.0.0/8' })).not.toThrow();
  });

  test('When a TRUSTED_PROXY_CIDRS entry is not a CIDR, then each one is reported', () => {
    expect(
      problemsOf({
        TRUSTED_PROXY_HOPS: '1',
        TRUSTED_PROXY_CIDRS: '10.0.0.0/33, example.com, 10.0.0.0/8, 2001:db8::/129, 10.0.0.0/x, 1.2.3.4/08',
      }),
    ).toEqual([
      'TRUSTED_PROXY_CIDRS: "10.0.0.0/33" is not an address or CIDR (like 10.0.0.0/8 or 2001:db8::/32)',
      'TRUSTED_PROXY_CIDRS: "example.com" is not an address or CIDR (like 10.0.0.0/8 or 2001:db8::/32)',
      'TRUSTED_PROXY_CIDRS: "2001:db8::/129" is not an address or CIDR (like 10.0.0.0/8 or 2001:db8::/32)',
      'TRUSTED_PROXY_CIDRS: "10.0.0.0/x" is not an address or CIDR (like 10.0.0.0/8 or 2001:db8::/32)',
      'TRUSTED_PROXY_CIDRS: "1.2.3.4/08" is not an address or CIDR (like 10.0.0.0/8 or 2001:db8::/32)',
    ]);
  });

  test('When CORS_ALLOW_ORIGINS is "*" or a list, then it is "*" or the origins once each', () => {
    expect(loadConfig({ CORS_ALLOW_ORIGINS: ' * ' }).corsAllowOrigins).toBe('*');
    expect(
      loadConfig({
        CORS_ALLOW_ORIGINS: 'https://app.example.com, http://localhost:3000,https://app.example.com',
      }).corsAllowOrigins,
    ).toStrictEqual(['https://app.example.com', 'http://localhost:3000']);
  });

  test('When CORS_ALLOW_ORIGINS has something that is not an origin, then each is reported with the other problems', () => {
    expect(
      problemsOf({
        PORT: 'abc',
        CORS_ALLOW_ORIGINS: 'https://ok.example,https://app.example.com/,app.example.com,ftp://x.example',
      }),
    ).toEqual([
      'PORT: must be a whole number',
      ...['https://app.example.com/', 'app.example.com', 'ftp://x.example'].map(
        (item) =>
          `CORS_ALLOW_ORIGINS: "${item}" is not an origin like https://app.example.com (scheme, host, optional port; lower case, no path or trailing slash)`,
      ),
    ]);
    expect(problemsOf({ CORS_ALLOW_ORIGINS: '*,https://a.example' })).toEqual([
      'CORS_ALLOW_ORIGINS: "*" cannot be combined with origins',
    ]);
  });
});

describe('loadConfig: the price stream', () => {
  test('When the stream settings are given, then they are taken as given', () => {
    expect(
      loadConfig({
        STREAM_MAX_SUBSCRIBERS_PER_WORKER: '100',
        STREAM_MAX_SUBSCRIBERS_PER_CLIENT: '5',
        STREAM_HEARTBEAT_MS: '2000',
        STREAM_MAX_LIFETIME_MS: '60000',
        STREAM_RETRY_MS: '500',
        STREAM_MAX_BUFFERED_BYTES: '8192',
      }).stream,
    ).toStrictEqual({
      maxSubscribersPerWorker: 100,
      maxSubscribersPerClient: 5,
      heartbeatMs: 2000,
      maxLifetimeMs: 60_000,
      retryMs: 500,
      maxBufferedBytes: 8192,
    });
  });

  test('When stream settings are out of range or disagree, then every problem is reported', () => {
    expect(
      problemsOf({
        STREAM_MAX_SUBSCRIBERS_PER_WORKER: '0',
        STREAM_HEARTBEAT_MS: '10',
        STREAM_MAX_BUFFERED_BYTES: 'lots',
      }),
    ).toEqual([
      expect.stringMatching(/^STREAM_MAX_SUBSCRIBERS_PER_WORKER: /),
      expect.stringMatching(/^STREAM_HEARTBEAT_MS: /),
      expect.stringMatching(/^STREAM_MAX_BUFFERED_BYTES: /),
    ]);
    expect(
      problemsOf({
        STREAM_MAX_SUBSCRIBERS_PER_WORKER: '10',
        STREAM_MAX_SUBSCRIBERS_PER_CLIENT: '11',
        STREAM_HEARTBEAT_MS: '60000',
        STREAM_MAX_LIFETIME_MS: '60000',
      }),
    ).toEqual([
      'STREAM_MAX_SUBSCRIBERS_PER_CLIENT: 11 is more than STREAM_MAX_SUBSCRIBERS_PER_WORKER (10)',
      'STREAM_HEARTBEAT_MS: 60000 must be shorter than STREAM_MAX_LIFETIME_MS (60000)',
    ]);
  });
});
