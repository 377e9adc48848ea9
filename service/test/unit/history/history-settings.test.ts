import { loadConfig } from '../../../src/config';
import { problemsOf } from '../config-problems';

describe('history settings', () => {
  test('When set, then retention is read in seconds and held in ms', () => {
    const config = loadConfig({
      HISTORY_POINTS_RETENTION: '3600',
      HISTORY_MINUTES_RETENTION: '86400',
      HISTORY_PENDING_MAX_POINTS: '10',
    });
    expect(config.history).toEqual({
      pointsRetentionMs: 3_600_000,
      minutesRetentionMs: 86_400_000,
      maxPendingPoints: 10,
    });
  });

  test.each([
    ['HISTORY_POINTS_RETENTION', '59'], // under a minute: not even one minute closes
    ['HISTORY_POINTS_RETENTION', '1d'],
    ['HISTORY_MINUTES_RETENTION', '3599'],
    ['HISTORY_PENDING_MAX_POINTS', '0'],
    ['HISTORY_PENDING_MAX_POINTS', '1e3'],
  ])('When %s is %p, then the process refuses to start and names it', (name, value) => {
    expect(problemsOf({ [name]: value }).join('\n')).toContain(name);
  });
});
