import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createClientRateLimiter } from '../../src/infrastructure/rate-limit/client-rate-limiter';
import { createRequestListener } from '../../src/presentation/dispatch';
import type { RateLimit } from '../../src/presentation/rate-limit';
import { eventually } from '../helpers/metrics';

// The fail-open contract: whatever fails around the rate limit is a 500 for that request, never an
// unhandled rejection that takes the worker down.
let mockLoadAttempts = 0;
jest.mock('rate-limiter-flexible', () => {
  mockLoadAttempts++;
  throw new Error('rate-limiter-flexible could not be loaded');
});

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => process.off('unhandledRejection', onUnhandled));

function fakeResponse() {
  const res = Object.assign(new EventEmitter(), {
    headersSent: false,
    statusCode: 0,
    body: '',
    setHeader: jest.fn(),
    writeHead(status: number) {
      res.statusCode = status;
      res.headersSent = true;
      return res;
    },
    end(body?: string) {
      res.body = body ?? '';
      res.emit('done');
    },
    destroy: jest.fn(),
  });
  return res;
}

test('When dispatch throws after the rate limit admitted the request, then that request is a 500 problem and nothing is left unhandled', async () => {
  const logged: unknown[] = [];
  const rateLimit = { admit: async () => true } as unknown as RateLimit;
  const app = (() => {
    throw new Error('boom in dispatch');
  }) as never;
  const listener = createRequestListener([], app, {
    pairs: ['eth-usdt'],
    observerFor: () => () => undefined,
    isDraining: () => false,
    tracer: { start: () => undefined, end: () => undefined } as never,
    logger: { error: (_m: string, f: unknown) => logged.push(f) } as never,
    common: [],
    guard: { reject: () => false } as never,
    cors: undefined,
    rateLimit,
  });
  const res = fakeResponse();
  const done = new Promise((resolve) => res.once('done', resolve));
  listener(
    {
      url: '/api/',
      method: 'GET',
      rawHeaders: [],
      socket: { remoteAddress: '10.0.0.1' },
    } as unknown as IncomingMessage,
    res as unknown as ServerResponse,
  );
  await done;
  await new Promise((resolve) => setImmediate(resolve));
  expect(res.statusCode).toBe(500);
  expect(JSON.parse(res.body)).toMatchObject({ code: 'INTERNAL', status: 500 });
  expect(logged).toHaveLength(1);
  expect(unhandled).toEqual([]);
});

test('When the Redis store cannot be loaded, then nothing rejects unhandled at start and every request is let through as unavailable', async () => {
  const limiter = createClientRateLimiter({
    requests: 3,
    windowSeconds: 60,
    redis: {
      topology: { kind: 'single', url: 'redis://127.0.0.1:1' },
      keyPrefix: 'test:',
      commandTimeoutMs: 50,
    },
  });
  try {
    // Before any request: a failed import must not surface as an unhandled rejection. Once the load was
    // tried, one turn of the event loop is enough for Node to report a rejection nobody handles.
    await eventually(
      async () => mockLoadAttempts,
      (n) => n > 0,
      { what: 'the store loaded' },
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
    await expect(limiter.consume('203.0.113.1')).resolves.toEqual({ kind: 'unavailable' });
  } finally {
    await limiter.close();
  }
});
