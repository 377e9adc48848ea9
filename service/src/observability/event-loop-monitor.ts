/**
 * How often the event-loop delay monitors (the liveness probe's and prom-client's nodejs_eventloop_lag_*)
 * sample: each is a timer that wakes the worker this often even when it has nothing to do. At 10–20 ms the
 * two cost a worker ~4 ms of CPU per second idle (~1.5 µs per request at 5,000 req/s on two workers:
 * docs/performance.md); at 50 ms, 20 samples a second still give a p99 over a probe or scrape interval, and
 * a stall of any length still shows as the delay of the tick it held up.
 */
export const EVENT_LOOP_MONITOR_RESOLUTION_MS = 50;
