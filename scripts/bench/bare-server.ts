/**
 * The benchmark's baseline: a bare node:http cluster answering every request with fixed bytes and the same
 * headers as the service's price response. Nothing can serve the same bytes faster on this box.
 * Usage: node dist/scripts/bench/bare-server.js <port> <workers> <body-file> [headers-json-file]
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [portArg = '8100', workersArg = '2', bodyFile = '', headersFile] = process.argv.slice(2);
const workers = Number(workersArg);

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  // Exit cleanly on a signal, so that --cpu-prof can write the worker's profile.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
  const body = readFileSync(bodyFile);
  const extra: string[] = headersFile ? JSON.parse(readFileSync(headersFile, 'utf8')) : [];
  const headers = [
    'Content-Type',
    'application/json; charset=utf-8',
    'Content-Length',
    String(body.length),
    ...extra,
  ];
  http
    .createServer({ keepAliveTimeout: 65_000 }, (_req, res) => {
      res.writeHead(200, headers);
      res.end(body);
    })
    .listen(Number(portArg), '127.0.0.1');
}
