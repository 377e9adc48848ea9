import { createClientRateLimiter } from '../../src/infrastructure/rate-limit/client-rate-limiter';
import { eventually } from '../helpers/metrics';
import { sharedRedisScenario, useRedisBackend } from '../helpers/redis-scenario';
import { startRedisCluster } from '../helpers/redis-topologies';

// A real 3-master Redis Cluster (redis-server --cluster-enabled yes, redis-cli --cluster create) on loopback,
// serving the same scenario as single-node Redis: the keys of a pair share a slot through their hash tag.
const context = useRedisBackend(async () => {
  const cluster = await startRedisCluster();
  process.stdout.write(`[redis-cluster] 3 masters on ${cluster.nodes}\n`);
  return {
    env: { REDIS_CLUSTER_NODES: cluster.nodes },
    topology: cluster.topology,
    stop: () => cluster.stop(),
  };
});

sharedRedisScenario(context);

test('When the rate limiter runs on the Cluster, then one budget is kept there and the client past it is limited', async () => {
  const limiter = createClientRateLimiter({
    requests: 3,
    windowSeconds: 60,
    redis: { topology: context.backend.topology, keyPrefix: `rl-${Date.now()}:`, commandTimeoutMs: 2000 },
  });
  try {
    // The limiter fails open until its client has the slot map: wait for its first real answer.
    await eventually(
      () => limiter.consume('warm-up'),
      (d) => d.kind !== 'unavailable',
      { what: 'limiter connected' },
    );
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push((await limiter.consume('203.0.113.7')).kind);
    expect(decisions).toEqual(['allowed', 'allowed', 'allowed', 'limited']);
  } finally {
    await limiter.close();
  }
});
