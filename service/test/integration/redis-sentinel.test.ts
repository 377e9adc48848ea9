import { Redis } from 'ioredis';
import { closeRedisClient, createRedisClient } from '../../src/infrastructure/redis/redis-client';
import { eventually, sample } from '../helpers/metrics';
import { price, useRedisBackend } from '../helpers/redis-scenario';
import { startRedisSentinel, type TestSentinel } from '../helpers/redis-topologies';

// A real Sentinel setup from Debian's redis-server and redis-sentinel on loopback: one master, one replica,
// one sentinel (quorum 1, master down after 1 s). The master is killed mid-test.
const DOWN_AFTER_MS = 1000;
let sentinel: TestSentinel;
const context = useRedisBackend(async () => {
  sentinel = await startRedisSentinel({ downAfterMs: DOWN_AFTER_MS });
  process.stdout.write(
    `[redis-sentinel] master :${sentinel.masterPort}, replica :${sentinel.replicaPort}, sentinel ${sentinel.sentinels}\n`,
  );
  return {
    env: { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: sentinel.name },
    topology: sentinel.topology,
    stop: () => sentinel.stop(),
  };
});

// The order matters: this test needs the master the failover test below kills.
test('When a reconnect is cut short while it asks the sentinel for the master (as the failover detector does on +switch-master), then the client connects again instead of ending for good', async () => {
  const client = createRedisClient({ topology: context.backend.topology, commandTimeoutMs: 1000 });
  try {
    await eventually(
      async () => client.status,
      (s) => s === 'ready',
      { what: 'client ready' },
    );
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    // What ioredis's FailoverDetector does: the connector's disconnect. Landing while the reconnect below is
    // resolving the master, it makes that attempt reject, and ioredis sets the client to 'end'.
    const connector = (client as unknown as { connector: { disconnect(): void } }).connector;
    client.once('connecting', () => connector.disconnect());
    client.disconnect(true);
    await ended;
    await eventually(
      async () => client.status,
      (s) => s === 'ready',
      { what: 'client ready again after the cut-short reconnect', timeoutMs: 10_000, intervalMs: 20 },
    );
    expect(await client.ping()).toBe('PONG');
  } finally {
    await closeRedisClient(client);
  }
});

const leases = (text: string, result: string) => sample(text, 'price_refresh_leases_total', { result }) ?? 0;

test('When the Sentinel master is killed mid-test, then prices keep being served with 200 and leases are taken again on the promoted replica, without a restart', async () => {
  const service = await context.start('failover:');
  await eventually(
    () => price(service),
    (p) => p.status === 200 && p.body.status === 'ok',
    { what: 'serving' },
  );
  await eventually(service.metricsText, (t) => leases(t, 'acquired') > 0, { what: 'leases in Redis' });

  // Steady client load through the whole failover: one request every 20 ms.
  const statuses: number[] = [];
  let loading = true;
  const load = (async () => {
    while (loading) {
      statuses.push(
        await price(service).then(
          (p) => p.status,
          () => 0,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  /** Until `count` more requests of the load have been answered (whatever their status). */
  const moreRequests = async (count: number) => {
    const from = statuses.length;
    await eventually(
      async () => statuses.length,
      (n) => n >= from + count,
      { what: `${count} more requests of the load`, timeoutMs: 15_000, intervalMs: 20 },
    );
  };

  try {
    // The load is under way before the kill (it was 500 ms of it): 30 here and 30 after, so more than the
    // 50 requests checked below go through however quickly the failover goes.
    await moreRequests(30);
    const killedAt = Date.now();
    await sentinel.killMaster();
    // The refresher notices: its leases are 'unavailable' (it fetches for itself meanwhile).
    const lost = await eventually(service.metricsText, (t) => leases(t, 'unavailable') > 0, {
      what: 'leases unavailable after the kill',
      intervalMs: 20,
    });
    const acquiredWhenLost = leases(lost, 'acquired');
    await eventually(
      async () => sentinel.currentMasterPort(),
      (port) => port === sentinel.replicaPort,
      { what: 'replica promoted by the sentinel', timeoutMs: 15_000, intervalMs: 50 },
    );
    const promotedAt = Date.now();
    await eventually(service.metricsText, (t) => leases(t, 'acquired') > acquiredWhenLost, {
      what: 'leases acquired again',
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    const reacquiredAt = Date.now();
    // And the promoted replica now holds what the service writes.
    const promoted = new Redis({ port: sentinel.replicaPort, host: '127.0.0.1', lazyConnect: true });
    try {
      await promoted.connect();
      await promoted.del('failover:{eth-usdt}:snapshot');
      const stored = await eventually(
        () => promoted.get('failover:{eth-usdt}:snapshot'),
        (v) => v !== null,
        { what: 'snapshot written to the new master' },
      );
      expect(JSON.parse(stored as string)).toMatchObject({ v: 1, pair: 'eth-usdt' });
    } finally {
      promoted.disconnect();
    }
    // And it goes on after the failover.
    await moreRequests(30);
    loading = false;
    await load;

    const nonOk = statuses.filter((s) => s !== 200).length;
    process.stdout.write(
      `[redis-sentinel failover] ${statuses.length} requests through it, ${nonOk} not 200; replica promoted ${promotedAt - killedAt} ms after the kill (down-after ${DOWN_AFTER_MS} ms); leases acquired again ${reacquiredAt - killedAt} ms after the kill (${reacquiredAt - promotedAt} ms after the promotion)\n`,
    );
    expect(statuses.length).toBeGreaterThan(50);
    expect(nonOk).toBe(0);
    expect(reacquiredAt - killedAt).toBeLessThan(15_000);
  } finally {
    loading = false;
    await load;
  }
}, 120_000);
