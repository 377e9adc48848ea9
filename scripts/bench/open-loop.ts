/**
 * Open-loop load at a fixed rate: request i is due at start + i/rate whatever happened before, and its
 * latency is measured from when it was due, not from when a connection became free. A stalled server
 * therefore shows up as latency (no coordinated omission), which a closed-loop tool would hide.
 * Usage: node dist/scripts/bench/open-loop.js <url> <rate> <connections> <seconds>
 * Prints one JSON line: { target, sent, completed, errors, non2xx, rps, p50, p99, p999, max } (ms).
 */
import http from 'node:http';

const [url = '', rateArg = '5000', connectionsArg = '300', secondsArg = '10'] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const target = new URL(url);
const agent = new http.Agent({
  keepAlive: true,
  maxSockets: Number(connectionsArg),
  maxFreeSockets: Number(connectionsArg),
});
const total = Math.round(rate * seconds);
const latencies = new Float64Array(total);
let completed = 0;
let errors = 0;
let non2xx = 0;
let sent = 0;
const start = performance.now();

function fire(dueAt: number): void {
  sent++;
  const req = http.request(
    { host: target.hostname, port: target.port, path: target.pathname + target.search, agent, method: 'GET' },
    (res) => {
      if (res.statusCode === undefined || res.statusCode >= 300) non2xx++;
      res.resume();
      res.on('end', () => {
        latencies[completed++] = performance.now() - dueAt;
        maybeFinish();
      });
    },
  );
  req.on('error', () => {
    errors++;
    maybeFinish();
  });
  req.end();
}

// A 1 ms tick sends every request that has come due; each keeps its own due time.
const timer = setInterval(() => {
  const now = performance.now();
  const due = Math.min(total, Math.floor(((now - start) / 1000) * rate));
  while (sent < due) fire(start + (sent / rate) * 1000);
  if (sent >= total) clearInterval(timer);
}, 1);

const hardStop = setTimeout(() => finish(), (seconds + 10) * 1000);

function maybeFinish(): void {
  if (sent >= total && completed + errors >= total) finish();
}

function finish(): void {
  clearInterval(timer);
  clearTimeout(hardStop);
  const elapsed = (performance.now() - start) / 1000;
  const sorted = latencies.slice(0, completed).sort();
  const at = (q: number) =>
    sorted.length === 0
      ? NaN
      : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
  const round = (v: number) => Math.round(v * 100) / 100;
  process.stdout.write(
    `${JSON.stringify({
      target: rate,
      sent,
      completed,
      errors,
      non2xx,
      rps: Math.round(completed / elapsed),
      p50: round(at(0.5)),
      p99: round(at(0.99)),
      p999: round(at(0.999)),
      max: round(sorted.length ? (sorted[sorted.length - 1] as number) : NaN),
    })}\n`,
  );
  agent.destroy();
  process.exit(0);
}
