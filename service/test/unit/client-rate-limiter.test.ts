import { createClientRateLimiter } from '../../src/infrastructure/rate-limit/client-rate-limiter';

// The in-memory store: one fixed window per process, bounded in keys, no timer per key.
function limiterAt(now: { ms: number }, maxKeys = 1000) {
  return createClientRateLimiter({ requests: 2, windowSeconds: 10, maxKeys, clock: () => now.ms });
}

test('When a client spends its budget, then it is limited until the window ends and allowed again in the next', async () => {
  const now = { ms: 1_000_000 };
  const limiter = limiterAt(now);
  expect(await limiter.consume('a')).toEqual({ kind: 'allowed', remaining: 1, resetMs: 10_000 });
  now.ms += 4000;
  expect(await limiter.consume('a')).toEqual({ kind: 'allowed', remaining: 0, resetMs: 6000 });
  expect(await limiter.consume('a')).toEqual({ kind: 'limited', remaining: 0, resetMs: 6000 });
  expect(await limiter.consume('b')).toMatchObject({ kind: 'allowed', remaining: 1 });
  now.ms += 6000;
  expect(await limiter.consume('a')).toEqual({ kind: 'allowed', remaining: 1, resetMs: 10_000 });
  await limiter.close();
});

test('When more distinct clients than maxKeys arrive in one window, then the store stops growing and the new ones are overflow (let through)', async () => {
  const now = { ms: 0 };
  const limiter = limiterAt(now, 100);
  for (let i = 0; i < 100; i++) expect((await limiter.consume(`k${i}`)).kind).toBe('allowed');
  expect(await limiter.consume('k100')).toEqual({ kind: 'overflow' });
  expect(await limiter.consume('k101')).toEqual({ kind: 'overflow' });
  // Known clients keep their counts.
  expect(await limiter.consume('k0')).toMatchObject({ kind: 'allowed', remaining: 0 });
  expect(await limiter.consume('k0')).toMatchObject({ kind: 'limited' });
  // The next window starts empty.
  now.ms += 10_000;
  expect(await limiter.consume('k100')).toMatchObject({ kind: 'allowed', remaining: 1 });
  await limiter.close();
});

test('When many distinct clients are counted, then no timer is left per client', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const limiter = createClientRateLimiter({ requests: 5, windowSeconds: 60 });
  for (let i = 0; i < 2000; i++) await limiter.consume(`198.51.${i >> 8}.${i & 255}`);
  expect(timers() - before).toBeLessThanOrEqual(1);
  await limiter.close();
});
