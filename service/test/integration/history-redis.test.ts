import { encodePoint } from '../../src/infrastructure/history/history-codec';
import {
  expectRoundsStored,
  recordRounds,
  redisHistoryChecks,
  useHistoryRedis,
} from '../helpers/history-on-redis';
import { startRedis, type TestRedis } from '../helpers/redis';

// A real Redis (a redis-server process or a container): the contract every store passes, then what only a
// shared store shows: two replicas store each point once. history-sentinel.test.ts and
// history-cluster-redis.test.ts run the same on Sentinel and on a Cluster.
let redis: TestRedis;
const context = useHistoryRedis(async () => {
  redis = await startRedis();
  return { topology: { kind: 'single', url: redis.url }, stop: () => redis.stop() };
});

redisHistoryChecks('redis', context);

describe('redis: what the streams hold', () => {
  test('When a value in the streams is malformed, then it is refused, never served', async () => {
    const history = await context.ready('poison:');
    await history.append('eth-usdt', { t: 1_000, price: '10', status: 'ok' });
    await context.admin.xadd('poison:{eth-usdt}:history:points', '2000-0', 'v', '["1e3","ok",[]]');
    await context.admin.xadd('poison:{eth-usdt}:history:points', '3000-0', 'v', '{"price":"5"}');
    expect((await history.pointAt('eth-usdt', 2_500))?.price).toBeUndefined();
    expect((await history.points('eth-usdt', 0, 10_000)).map((p) => p.t)).toEqual([1_000]);
  });

  test('When an append timed out but Redis ran it, then its retry, refused, still closes the minutes it ends', async () => {
    const history = await context.ready('late:');
    await history.append('eth-usdt', { t: 90_000, price: '10', status: 'ok' });
    // the point of the next minute, stored by Redis after the client stopped waiting for the answer
    const late = { t: 121_000, price: '11', status: 'ok' } as const;
    await context.admin.xadd('late:{eth-usdt}:history:points', '121000-0', 'v', encodePoint(late));
    expect(await history.append('eth-usdt', late)).toBe('duplicate');
    expect(
      (await context.admin.xrange('late:{eth-usdt}:history:minutes', '-', '+')).map(([id]) => id),
    ).toEqual(['60000-0']);
  });

  test('When the keys are listed, then they carry the pair hash tag after the prefix', async () => {
    const history = await context.ready('tags:');
    await history.append('btc-usdt', { t: 60_000, price: '1', status: 'ok' });
    await history.append('btc-usdt', { t: 120_000, price: '2', status: 'ok' });
    expect((await context.admin.keys('tags:*')).sort()).toEqual([
      'tags:{btc-usdt}:history:minutes',
      'tags:{btc-usdt}:history:points',
    ]);
  });
});

describe('redis: nothing lost through an outage', () => {
  test('When Redis is killed while rounds are published, then the held points are written in order when it is back', async () => {
    const { recorder, publish } = recordRounds(await context.ready('outage:'));
    await redis.kill();
    for (let second = 0; second < 10; second++) publish(second);
    expect(recorder.pending()).toBe(10);
    await redis.restart();
    await recorder.idle();
    recorder.stop();
    await expectRoundsStored(await context.ready('outage:'), 10);
  });
});
