/**
 * How often the liveness probe's event-loop delay monitor samples: a timer that wakes the worker this often
 * even when it has nothing to do. At 20 ms it cost an idle worker ~2 ms of CPU a second; at 50 ms, 20 samples
 * a second still give a p99 over a probe interval, and a stall of any length still shows as the delay of the
 * tick it held up. Node records the whole time between two samples, so the delay beyond the loop's own
 * turn is what it records minus this (the probe reports that).
 *
 * prom-client's nodejs_eventloop_lag_* keep its default 10 ms: they too record whole intervals, so their
 * floor is the precision, and the runtime dashboard and PriceEventLoopLagHigh (p99 > 100 ms) are read
 * against that floor, as in every other Node service they are compared with.
 */
export const EVENT_LOOP_MONITOR_RESOLUTION_MS = 50;
