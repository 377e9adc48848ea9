import { Redis } from 'ioredis';
import {
  expectRoundsStored,
  recordRounds,
  redisHistoryChecks,
  useHistoryRedis,
} from '../helpers/history-on-redis';
import { T } from '../fixtures/snapshots';
import { startRedisSentinel, type TestSentinel } from '../helpers/redis-topologies';

// The Redis history store on a real Sentinel setup from Debian's redis-server and redis-sentinel on
// loopback: a master, a replica and three sentinels (quorum 2, master down after 1 s). The contract and the
// replicas' check as on one node, then the master is killed while two replicas publish rounds.
const DOWN_AFTER_MS = 1000;
/** How often the replicas publish a round during the failover (each round is 1 s of price time). */
const ROUND_EVERY_MS = 100;
let sentinel: TestSentinel;
const context = useHistoryRedis(async () => {
  sentinel = await startRedisSentinel({ downAfterMs: DOWN_AFTER_MS, sentinels: 3 });
  process.stdout.write(
    `[history-sentinel] master :${sentinel.masterPort}, replica :${sentinel.replicaPort}, sentinels ${sentinel.sentinels}\n`,
  );
  return { topology: sentinel.topology, stop: () => sentinel.stop() };
});

redisHistoryChecks('redis sentinel', context);

// Last in the file: it kills the master the tests above use.
describe('redis sentinel: nothing lost through a failover', () => {
  test('When the master is killed while two replicas publish rounds, then the rounds published during the failover are written on the promoted replica after it, in order, none lost, none stored twice', async () => {
    const replicas = [
      recordRounds(await context.ready('failover:')),
      recordRounds(await context.ready('failover:')),
    ];
    const publish = (round: number) => {
      for (const { publish } of replicas) publish(round);
    };
    const idle = () => Promise.all(replicas.map(({ recorder }) => recorder.idle()));
    let round = 0;
    // Before: five rounds written to the master (and replicated). Nothing is in flight at the kill, so each
    // round's first append is the one written, whatever replica makes it.
    for (; round < 5; round++) publish(round);
    await idle();
    const killedAt = Date.now();
    await sentinel.killMaster();

    // During: a round every ROUND_EVERY_MS until the sentinels have promoted the replica. None can be
    // written (no master), so the replicas hold them.
    const duringFailover: number[] = [];
    let heldMost = 0;
    while (sentinel.currentMasterPort() !== sentinel.replicaPort) {
      if (Date.now() - killedAt > 30_000) throw new Error('the sentinels did not promote the replica');
      publish(round);
      duringFailover.push(round++);
      await new Promise((resolve) => setTimeout(resolve, ROUND_EVERY_MS));
      heldMost = Math.max(heldMost, ...replicas.map(({ recorder }) => recorder.pending()));
    }
    const promotedAt = Date.now();
    // After: five more rounds, then every held round is written.
    for (const end = round + 5; round < end; round++) publish(round);
    await idle();
    for (const { recorder } of replicas) recorder.stop();
    const counts = replicas.map((r) => r.counts);
    process.stdout.write(
      `[history-sentinel failover] replica promoted ${promotedAt - killedAt} ms after the kill; ${duringFailover.length} rounds published meanwhile, up to ${heldMost} held by a replica; written after ${Date.now() - promotedAt} ms; ${JSON.stringify(counts)}\n`,
    );

    // The failover happened under the rounds: several were published, held and retried meanwhile.
    expect(duringFailover.length).toBeGreaterThanOrEqual(3);
    expect(heldMost).toBeGreaterThanOrEqual(3);
    for (const { failed, dropped } of counts) {
      expect(failed).toBeGreaterThan(0);
      expect(dropped).toBe(0);
    }
    // Each round written once over both replicas, the other append a duplicate.
    expect(counts.reduce((n, c) => n + c.written, 0)).toBe(round);
    expect(counts.reduce((n, c) => n + c.duplicate, 0)).toBe(round);
    // On the promoted replica itself: every round, in order, no gap, each once.
    const promoted = new Redis({ host: '127.0.0.1', port: sentinel.replicaPort });
    try {
      const stored = await promoted.xrange('failover:{eth-usdt}:history:points', '-', '+');
      expect(stored.map(([id]) => (Number(id.split('-')[0]) - T) / 1_000)).toEqual(
        Array.from({ length: round }, (_, s) => s),
      );
    } finally {
      promoted.disconnect();
    }
    // And read back through the sentinels by a store connected after the failover, prices and all.
    await expectRoundsStored(await context.ready('failover:'), round);
  }, 60_000);
});
