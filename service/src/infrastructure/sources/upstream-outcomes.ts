// Its own module so the label list reaches the metrics without loading axios and opossum into workers.

/** How one fetch from an exchange ended: the upstream metrics' outcomes (error codes map onto the failures). */
export const UPSTREAM_OUTCOMES = [
  'success',
  'http_error',
  'timeout',
  'unreachable',
  'invalid_body',
  'body_error',
  'rate_limited',
  'circuit_open',
  'cooling_down',
] as const;
