/**
 * Starts make bench's baseline (bare-server.ts) with the service's own price head and body and its stream's
 * head, first write and price event, as read off the wire, and the service workers' node flags; then checks
 * that both sides put the same heads on the wire (values that move with the price or the time aside).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../scripts/lib/free-port';
import { REPO_ROOT as ROOT, startProcess, waitFor } from '../../scripts/lib/local-stack';
import type { BareConfig } from './bare-server';
import { childPids, nodeFlags } from './measure';
import { hasContentLength, headDifference, rawGet } from './raw-http';

export async function startBareBaseline(options: {
  priceUrl: string;
  servicePid: number | undefined;
  port: number;
  workers: number;
  intervalMs: number;
  maxBufferedBytes: number;
  tmp: string;
  /** The bare workers' flags from the service workers' (by default the same). */
  workerFlags?: (serviceWorkerFlags: string[]) => string[];
}) {
  // The baseline writes the service's own head and body, as they are on the wire.
  const streamUrl = `${options.priceUrl}/stream`;
  const price = await rawGet(options.priceUrl, hasContentLength);
  // The stream's head and first write (retry advice and the current price event).
  const stream = await rawGet(streamUrl, (_head, body) => /\nevent: price\n.*\n\n/s.test(body.toString()));
  const first = stream.body.toString();
  const event = first.slice(first.indexOf('id: '));
  writeFileSync(path.join(options.tmp, 'body.json'), price.body);
  const controlPort = await freePort();
  // The bare workers run with the service workers' node flags: a young generation of the same size.
  const serviceFlags = nodeFlags(childPids(options.servicePid)[0]);
  const workerExecArgv = options.workerFlags?.(serviceFlags) ?? serviceFlags;
  const bareConfig: BareConfig = {
    port: options.port,
    workers: options.workers,
    workerExecArgv,
    bodyFile: path.join(options.tmp, 'body.json'),
    headers: price.headers,
    stream: {
      headers: stream.headers,
      first,
      event,
      intervalMs: options.intervalMs,
      maxBufferedBytes: options.maxBufferedBytes,
      controlPort,
    },
  };
  writeFileSync(path.join(options.tmp, 'bare.json'), JSON.stringify(bareConfig));
  const bareServer = startProcess(process.execPath, [
    path.join(ROOT, 'dist/service/bench/bare-server.js'),
    path.join(options.tmp, 'bare.json'),
  ]);
  const bare = `http://127.0.0.1:${options.port}/`;
  await waitFor('bare server', async () => (await fetch(bare)).ok);
  // Same bytes on the wire, or the ratios mean nothing: the same head (values that move with the price and
  // the time aside), and a body of the service's current one's shape or within 2% of its length (its digits
  // move with the price).
  for (const [what, service, complete] of [
    ['price', options.priceUrl, hasContentLength],
    ['stream', streamUrl, (_h: string, body: Buffer) => body.length >= first.length],
  ] as const) {
    const barePath = `http://127.0.0.1:${options.port}${new URL(service).pathname}`;
    const [a, b] = await Promise.all([rawGet(service, complete), rawGet(barePath, complete)]);
    const difference = headDifference(a.head, b.head);
    // A stream's read may already hold the next event: its first write is compared by construction (the
    // bare server writes the service's own), the head here.
    // Bodies of one shape (the same bytes once every run of digits is one 0) are the same response at another
    // price: a price with more digits than the copied one once failed the 2% bound alone (1443 vs 1414).
    const shape = (body: Buffer) => body.toString().replace(/\d+/g, '0');
    const bodyDiffers =
      what === 'price' &&
      shape(a.body) !== shape(b.body) &&
      Math.abs(a.body.length - b.body.length) > a.body.length * 0.02;
    if (difference !== undefined || bodyDiffers) {
      throw new Error(
        `the bare server's ${what} response differs from the service's (body ${b.body.length} vs ${a.body.length} bytes)\n${difference ?? ''}`,
      );
    }
  }
  process.stderr.write(
    `bare server: the service's price head (${price.head.length + 4} bytes) and body (${price.body.length} bytes), stream head and ${event.length}-byte price event\n`,
  );
  return { bareServer, bare, controlPort, workerExecArgv };
}
