import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, PAIR_VARIABLE } from './dashboard';
import { stat, timeseries } from './panels';
import { timeSinceLastPublished } from './sources';

export const cacheDashboard = (): Dashboard =>
  buildDashboard({
    uid: 'price-service-cache',
    title: 'Price service / Cache and Redis',
    description:
      'The read path: in-process L1 cache fed ahead of requests, Redis (L2) behind it, and the freshness of what is served.',
    tags: ['cache', 'redis'],
    variables: [PAIR_VARIABLE],
    rows: [
      {
        title: 'At a glance',
        panels: [
          stat({
            title: 'L1 hit ratio',
            description:
              'Share of price lookups served from the in-process cache. The primary pushes each new price to its workers, so this stays near 100%; PriceCacheHitRatioCollapse fires under 80%.',
            unit: 'percentunit',
            width: 6,
            height: 4,
            decimals: 1,
            thresholds: ['red', [0.8, 'orange'], [0.95, 'green']],
            query: {
              expr: 'sum(rate(price_cache_lookups_total{job="price-service",tier="l1",result="hit"}[$__rate_interval])) / sum(rate(price_cache_lookups_total{job="price-service",tier="l1"}[$__rate_interval]))',
            },
          }),
          stat({
            title: 'Redis connected',
            description:
              'Whether every process of every replica has a ready Redis connection. No data: Redis is not configured (L1 only).',
            unit: 'none',
            width: 6,
            height: 4,
            query: { expr: 'min(redis_connection_up{job="price-service"})' },
            states: [
              { value: 1, text: 'connected', color: 'green' },
              { value: 0, text: 'unreachable', color: 'red' },
            ],
          }),
          stat({
            title: 'Redis errors',
            description: 'Failed or timed-out Redis commands per second, all operations.',
            unit: 'ops',
            width: 6,
            height: 4,
            decimals: 2,
            thresholds: ['green', [0.01, 'orange'], [1, 'red']],
            query: {
              expr: 'sum(rate(redis_errors_total{job="price-service"}[$__rate_interval])) or vector(0)',
            },
          }),
          stat({
            title: 'Price age',
            description:
              'Age of the price that would be served now (worst pair). Past MAX_STALENESS the service answers 503.',
            unit: 's',
            width: 6,
            height: 4,
            thresholds: ['green', [10, 'orange'], [20, 'red']],
            query: { expr: 'max(price_age_seconds{job="price-service",pair=~"$pair"})' },
          }),
        ],
      },
      {
        title: 'Lookups',
        panels: [
          timeseries({
            title: 'Cache lookups by tier and result',
            description:
              'Lookups per second: l1 (in-process) and l2 (Redis) by result. L2 is read only on an L1 miss; rejected = a malformed value refused.',
            unit: 'ops',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (tier, result) (rate(price_cache_lookups_total{job="price-service"}[$__rate_interval]))',
                legend: '{{tier}} {{result}}',
              },
            ],
          }),
          timeseries({
            title: 'Hit ratio by tier',
            description:
              'Hits over all lookups, per tier. A low L2 ratio alone is harmless: L2 only sees what L1 missed.',
            unit: 'percentunit',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (tier) (rate(price_cache_lookups_total{job="price-service",result="hit"}[$__rate_interval])) / sum by (tier) (rate(price_cache_lookups_total{job="price-service"}[$__rate_interval]))',
                legend: '{{tier}}',
              },
            ],
            min: 0,
            max: 1,
          }),
        ],
      },
      {
        title: 'Redis',
        panels: [
          timeseries({
            title: 'Redis errors by operation',
            description:
              'Failed or timed-out Redis commands per second, by operation. The service keeps serving from L1 and upstream.',
            unit: 'ops',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (operation) (rate(redis_errors_total{job="price-service"}[$__rate_interval]))',
                legend: '{{operation}}',
              },
            ],
          }),
          timeseries({
            title: 'Redis connection by replica',
            description:
              '1 when every process of the replica has a ready Redis connection, 0 when at least one has not.',
            unit: 'none',
            width: 12,
            height: 8,
            decimals: 0,
            queries: [
              {
                expr: 'min by (instance) (redis_connection_up{job="price-service"})',
                legend: '{{instance}}',
              },
            ],
            min: 0,
            max: 1,
          }),
        ],
      },
      {
        title: 'Freshness',
        panels: [
          timeseries({
            title: 'Price age by pair',
            description:
              'Age of the servable price from its oldest source timestamp. Normal: about the refresh interval plus the slowest source. Lines: 20s (PriceAgeHigh) and 60s (default MAX_STALENESS).',
            unit: 's',
            width: 12,
            height: 8,
            thresholds: ['green', [20, 'orange'], [60, 'red']],
            queries: [
              {
                expr: 'max by (pair) (price_age_seconds{job="price-service",pair=~"$pair"})',
                legend: '{{pair}}',
              },
            ],
            thresholdLines: true,
          }),
          timeSinceLastPublished(),
        ],
      },
    ],
  });
