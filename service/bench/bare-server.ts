/**
 * The benchmark's baseline: a bare node:http cluster that puts the service's own bytes on the wire with
 * nothing else around them. Nothing can serve the same bytes faster on this box.
 * - Any URL ending in /stream is held as a server-sent event stream: the service's stream head, its first
 *   write, then, per snapshot (the primary sends one to every worker each `intervalMs`, as the service's
 *   primary does over IPC), one event of the service's price event's size written to every held socket, with
 *   the service's backpressure check. Each worker times that write loop as the service times its fan-out
 *   (from the snapshot reaching the worker to the last socket write) and reports it to the primary.
 * - Every other request is answered with the service's price body and head (header names, order, values).
 * The primary answers GET /stats ({ open, fanoutMs }) and GET /reset on the control port.
 * Usage: node dist/service/bench/bare-server.js <config-json-file> (BareConfig below; bench.ts writes it)
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';

export interface BareConfig {
  port: number;
  workers: number;
  /** The service workers' node flags (their young generation size, and --cpu-prof when profiling). */
  workerExecArgv: string[];
  /** The price response's body, and its raw header list (name, value, …) without Date/Connection/Keep-Alive. */
  bodyFile: string;
  headers: string[];
  stream: {
    headers: string[];
    /** What the service writes right after the head (retry advice and the current price event). */
    first: string;
    /** One price event of the service's; its id is replaced per snapshot by a counter of the same length. */
    event: string;
    intervalMs: number;
    maxBufferedBytes: number;
    controlPort: number;
  };
}

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as BareConfig;

interface FanoutReport {
  type: 'fanout';
  ms: number;
  open: number;
}

if (cluster.isPrimary) {
  cluster.setupPrimary({ execArgv: config.workerExecArgv });
  for (let i = 0; i < config.workers; i++) cluster.fork();
  let fanoutMs: number[] = [];
  const open = new Map<number, number>();
  cluster.on('message', (worker, message: FanoutReport) => {
    if (message.type !== 'fanout') return;
    open.set(worker.id, message.open);
    if (message.open > 0) fanoutMs.push(message.ms);
  });
  // One sequence for all workers: like the service's event id, the same snapshot has the same id everywhere.
  let sequence = 0;
  const snapshots = setInterval(() => {
    sequence++;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send({ type: 'snapshot', sequence });
  }, config.stream.intervalMs);
  const control = http
    .createServer((req, res) => {
      if (req.url === '/reset') fanoutMs = [];
      const open_ = [...open.values()].reduce((a, b) => a + b, 0);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ open: open_, fanoutMs }));
    })
    .listen(config.stream.controlPort, '127.0.0.1');
  // Signal the workers themselves and wait for them: each exits cleanly, writing its --cpu-prof profile.
  const stop = () => {
    clearInterval(snapshots);
    control.close();
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    let left = workers.length;
    if (left === 0) process.exit(0);
    for (const worker of workers) {
      worker.process.once('exit', () => --left === 0 && process.exit(0));
      worker.process.kill('SIGTERM');
    }
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  // Exit cleanly on a signal, so that --cpu-prof can write the worker's profile.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
  const body = readFileSync(config.bodyFile);
  const headers = [...config.headers];
  const length = headers.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length');
  if (length >= 0) headers[length + 1] = String(body.length);
  else headers.push('Content-Length', String(body.length));

  const held = new Set<Socket>();
  const idMatch = /^id: ([^\n]+)\n/.exec(config.stream.event);
  const idLength = idMatch?.[1]?.length ?? 8;
  const afterId = config.stream.event.slice(idMatch?.[0].length ?? 0);
  process.on('message', (message: { type: string; sequence: number }) => {
    if (message.type !== 'snapshot') return;
    const started = performance.now();
    const id = String(message.sequence).padStart(idLength, '0').slice(-idLength);
    const event = Buffer.from(`id: ${id}\n${afterId}`);
    for (const socket of held) {
      if (socket.destroyed) continue;
      socket.write(event);
      if (socket.writableLength > config.stream.maxBufferedBytes) {
        held.delete(socket);
        socket.destroy();
      }
    }
    const report: FanoutReport = { type: 'fanout', ms: performance.now() - started, open: held.size };
    process.send?.(report);
  });

  http
    .createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      if (req.url?.endsWith('/stream')) {
        req.socket.setTimeout(0);
        res.useChunkedEncodingByDefault = false;
        res.shouldKeepAlive = false;
        res.writeHead(200, config.stream.headers);
        res.write(config.stream.first);
        const socket = req.socket;
        held.add(socket);
        socket.once('close', () => held.delete(socket));
        return;
      }
      res.writeHead(200, headers);
      res.end(body);
    })
    .listen(config.port, '127.0.0.1');
}
