import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, INSTANCE_VARIABLE } from './dashboard';
import { stat, timeseries } from './panels';

export const runtimeDashboard = (): Dashboard =>
  buildDashboard({
    uid: 'price-service-runtime',
    title: 'Price service / Cluster and Node runtime',
    description:
      'Cluster workers and the Node.js runtime per replica: event loop lag, heap, GC, CPU, memory, handles. Values are aggregated over the workers of a replica by the cluster primary.',
    tags: ['runtime'],
    variables: [INSTANCE_VARIABLE],
    rows: [
      {
        title: 'Cluster',
        panels: [
          stat({
            title: 'Workers alive',
            description: 'Worker processes currently alive, all selected replicas.',
            unit: 'none',
            width: 6,
            height: 4,
            thresholds: ['red', [1, 'green']],
            query: { expr: 'sum(cluster_workers_alive{job="price-service",instance=~"$instance"})' },
          }),
          stat({
            title: 'Worker restarts, last hour',
            description:
              'Workers that exited unexpectedly and were forked again in the last hour. More than 2 in 15 minutes fires PriceWorkersRestarting.',
            unit: 'none',
            width: 6,
            height: 4,
            decimals: 0,
            thresholds: ['green', [1, 'orange'], [3, 'red']],
            query: {
              expr: 'sum(increase(cluster_worker_restarts_total{job="price-service",instance=~"$instance"}[1h])) or vector(0)',
            },
          }),
          stat({
            title: 'Version',
            description: 'Service version and Node.js version reported by app_info.',
            unit: 'none',
            width: 12,
            height: 4,
            query: {
              expr: 'max by (version, node_version) (app_info{job="price-service",instance=~"$instance"})',
              legend: '{{version}} on Node {{node_version}}',
            },
            colorMode: 'none',
            textMode: 'name',
          }),
          timeseries({
            title: 'Workers alive by replica',
            description: 'Workers alive per replica; a dip is a worker being replaced.',
            unit: 'none',
            width: 12,
            height: 8,
            decimals: 0,
            queries: [
              {
                expr: 'max by (instance) (cluster_workers_alive{job="price-service",instance=~"$instance"})',
                legend: '{{instance}}',
              },
            ],
            min: 0,
          }),
          timeseries({
            title: 'Worker restarts',
            description: 'Unexpected worker exits, per replica, counted over 5 minutes.',
            unit: 'none',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (instance) (increase(cluster_worker_restarts_total{job="price-service",instance=~"$instance"}[5m]))',
                legend: '{{instance}}',
              },
            ],
            min: 0,
          }),
        ],
      },
      {
        title: 'Event loop',
        panels: [
          timeseries({
            title: 'Event loop lag',
            description:
              'Event loop delay: p99 and mean are averaged over the workers of a replica, max is the worst worker. A request waits this long before it is read; PriceEventLoopLagHigh fires on p99 above 100ms.',
            unit: 's',
            width: 12,
            height: 8,
            thresholds: ['green', [0.1, 'red']],
            queries: [
              {
                expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds{job="price-service",instance=~"$instance"})',
                legend: 'p99 {{instance}}',
              },
              {
                expr: 'max by (instance) (nodejs_eventloop_lag_mean_seconds{job="price-service",instance=~"$instance"})',
                legend: 'mean {{instance}}',
              },
              {
                expr: 'max by (instance) (nodejs_eventloop_lag_max_seconds{job="price-service",instance=~"$instance"})',
                legend: 'max {{instance}}',
              },
            ],
            thresholdLines: true,
          }),
          timeseries({
            title: 'CPU',
            description: 'CPU time per second, all processes of the replica: 1 = one full core.',
            unit: 'percentunit',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (instance) (rate(process_cpu_seconds_total{job="price-service",instance=~"$instance"}[$__rate_interval]))',
                legend: '{{instance}}',
              },
            ],
            min: 0,
          }),
        ],
      },
      {
        title: 'Memory and GC',
        panels: [
          timeseries({
            title: 'Heap used and total',
            description: 'V8 heap used and allocated, summed over the processes of a replica.',
            unit: 'bytes',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (instance) (nodejs_heap_size_used_bytes{job="price-service",instance=~"$instance"})',
                legend: 'used {{instance}}',
              },
              {
                expr: 'sum by (instance) (nodejs_heap_size_total_bytes{job="price-service",instance=~"$instance"})',
                legend: 'total {{instance}}',
              },
            ],
            min: 0,
          }),
          timeseries({
            title: 'Resident memory',
            description: 'Resident set size, summed over the processes of a replica.',
            unit: 'bytes',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (instance) (process_resident_memory_bytes{job="price-service",instance=~"$instance"})',
                legend: '{{instance}}',
              },
            ],
            min: 0,
          }),
          timeseries({
            title: 'Time spent in GC by kind',
            description:
              'Seconds of garbage collection per second, by GC kind (minor, major, incremental, weakcb): the share of time the processes spend collecting.',
            unit: 'percentunit',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (kind) (rate(nodejs_gc_duration_seconds_sum{job="price-service",instance=~"$instance"}[$__rate_interval]))',
                legend: '{{kind}}',
              },
            ],
            min: 0,
            fillOpacity: 40,
            stacked: true,
          }),
          timeseries({
            title: 'GC runs by kind',
            description: 'Garbage collections per second, by kind.',
            unit: 'ops',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (kind) (rate(nodejs_gc_duration_seconds_count{job="price-service",instance=~"$instance"}[$__rate_interval]))',
                legend: '{{kind}}',
              },
            ],
            min: 0,
          }),
          timeseries({
            title: 'Active handles',
            description:
              'Open libuv handles (sockets, timers, servers), summed over the processes of a replica. Steady growth is a leak.',
            unit: 'none',
            width: 24,
            height: 8,
            decimals: 0,
            queries: [
              {
                expr: 'sum by (instance) (nodejs_active_handles{job="price-service",instance=~"$instance"})',
                legend: '{{instance}}',
              },
            ],
            min: 0,
          }),
        ],
      },
    ],
  });
