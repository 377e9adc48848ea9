/**
 * Open-loop load at a fixed rate: request i is due at start + i/rate whatever happened before, and its
 * latency is measured from when it was due, not from when a connection became free. A stalled server
 * therefore shows up as latency (no coordinated omission), which a closed-loop tool would hide.
 * Raw keep-alive sockets and a minimal HTTP/1.1 response reader keep the generator itself cheap: it shares
 * the two cores with the server under test.
 * Usage: node dist/service/bench/open-loop.js <url> <rate> <connections> <seconds>
 * Prints one JSON line: { target, sent, completed, errors, non2xx, rps, p50, p99, p999, max } (ms).
 */
import net from 'node:net';

const [url = '', rateArg = '5000', connectionsArg = '300', secondsArg = '10'] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const target = new URL(url);
const request = Buffer.from(
  `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n\r\n`,
);
const total = Math.round(rate * seconds);
const latencies = new Float64Array(total);
const due = new Float64Array(total);
let queued = 0; // requests that have come due
let taken = 0; // requests handed to a connection
let completed = 0;
let errors = 0;
let non2xx = 0;
const idle: Connection[] = [];
const HEADER_END = Buffer.from('\r\n\r\n');

class Connection {
  private readonly socket: net.Socket;
  private pending: Buffer = Buffer.alloc(0);
  private dueAt = 0;

  constructor() {
    this.socket = net.connect(Number(target.port), target.hostname);
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => {
      idle.push(this);
      if (++connected === connections.length) begin();
    });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', () => {
      errors++;
      finishIfDone();
    });
  }

  next(): void {
    if (taken >= queued) {
      idle.push(this);
      return;
    }
    this.dueAt = due[taken++] as number;
    this.socket.write(request);
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const headerEnd = this.pending.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.pending.toString('latin1', 0, headerEnd);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.pending.length < headerEnd + 4 + length) return;
    const status = Number(head.slice(9, 12));
    if (!(status >= 200 && status < 300)) non2xx++;
    this.pending = this.pending.subarray(headerEnd + 4 + length);
    latencies[completed++] = performance.now() - this.dueAt;
    finishIfDone();
    this.next();
  }

  close(): void {
    this.socket.destroy();
  }
}

let connected = 0;
const connections = Array.from({ length: Number(connectionsArg) }, () => new Connection());
let start = 0;
let timer: NodeJS.Timeout | undefined;
let hardStop: NodeJS.Timeout | undefined;

/** The clock starts once every connection is open: connection setup is not what is measured. */
function begin(): void {
  start = performance.now();
  timer = setInterval(tick, 1);
  hardStop = setTimeout(() => finish(), (seconds + 10) * 1000);
}

// Every millisecond, mark what has come due and hand it to idle connections; the rest waits in order.
function tick(): void {
  const now = performance.now();
  const dueNow = Math.min(total, Math.floor(((now - start) / 1000) * rate));
  while (queued < dueNow) {
    due[queued] = start + (queued / rate) * 1000;
    queued++;
  }
  while (idle.length > 0 && taken < queued) (idle.pop() as Connection).next();
  if (queued >= total) clearInterval(timer);
}

function finishIfDone(): void {
  if (queued >= total && completed + errors >= total) finish();
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
      sent: taken,
      completed,
      errors,
      non2xx,
      rps: Math.round(completed / elapsed),
      p50: round(at(0.5)),
      p99: round(at(0.99)),
      p999: round(at(0.999)),
      max: round(at(1)),
    })}\n`,
  );
  for (const connection of connections) connection.close();
  process.exit(0);
}
