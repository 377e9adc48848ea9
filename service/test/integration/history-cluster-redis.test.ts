import { Cluster } from 'ioredis';
import { T } from '../fixtures/snapshots';
import { redisHistoryChecks, useHistoryRedis } from '../helpers/history-on-redis';
import { startRedisCluster } from '../helpers/redis-topologies';

// The Redis history store on a real 3-master Redis Cluster (redis-server --cluster-enabled yes, redis-cli
// --cluster create) on loopback: the contract and the replicas' check as on one node, and what only a
// Cluster shows of the keys: each pair's streams in the one slot of the pair's hash tag (pairTag), so one
// pair's whole history is on one shard.
const context = useHistoryRedis(async () => {
  const cluster = await startRedisCluster();
  process.stdout.write(`[history-cluster-redis] 3 masters on ${cluster.nodes}\n`);
  return { topology: cluster.topology, stop: () => cluster.stop() };
});

redisHistoryChecks('redis cluster', context);

describe('redis cluster: the keys of a pair', () => {
  test("When two pairs' points, minutes and hours are stored, then every key of a pair is in its hash tag's one slot, on one master", async () => {
    const history = await context.ready('slots:');
    const pairs = ['eth-usdt', 'btc-usdt'];
    // Points every 20 s across an hour's end: the minutes of the hour close, and then the hour itself.
    for (const pair of pairs) {
      for (let t = T + 3_540_000; t <= T + 3_620_000; t += 20_000) {
        expect(await history.append(pair, { t, price: `3500.${(t / 1_000) % 100}`, status: 'ok' })).toBe(
          'written',
        );
      }
    }
    const admin = context.admin as Cluster;
    // Every key under the prefix, from each master: where a key is is where the Cluster put it.
    const perMaster = await Promise.all(
      admin.nodes('master').map(async (node) => (await node.keys('slots:*')).sort()),
    );
    expect(perMaster.flat().sort()).toEqual(
      pairs
        .flatMap((pair) =>
          ['hours', 'minutes', 'points'].map((stream) => `slots:{${pair}}:history:${stream}`),
        )
        .sort(),
    );
    for (const pair of pairs) {
      const keys = perMaster.flat().filter((key) => key.includes(pair));
      const slots = await Promise.all(keys.map((key) => admin.cluster('KEYSLOT', key)));
      // One slot for the three, the slot of the tag alone: only the text between the braces is hashed.
      expect(new Set(slots)).toEqual(new Set([await admin.cluster('KEYSLOT', pair)]));
      expect(perMaster.filter((onMaster) => onMaster.some((key) => keys.includes(key)))).toHaveLength(1);
    }
  });
});
