import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openStreamSubscribers, streamChecks } from '../src/stream-subscribers';

/** A stand-in stream: what each subscriber is sent is up to the test. */
async function server(
  handler: http.RequestListener,
): Promise<{ url: string; closedConnections(): number; close(): Promise<void> }> {
  const s = http.createServer(handler);
  // A connection the client closed: it has read its response to the end (the runner's agent keeps none).
  let closed = 0;
  s.on('connection', (socket) => socket.on('close', () => closed++));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/stream`,
    closedConnections: () => closed,
    close: () =>
      new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      }),
  };
}
const until = async (check: () => boolean) => {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('the stream subscribers the runner holds open', () => {
  it('count price events, ids received twice, status events and streams cut off', async () => {
    let served = 0;
    const s = await server((req, res) => {
      served++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('retry: 2000\n\n: heartbeat\n\n');
      res.write('id: a-ok\nevent: price\ndata: {}\n\nid: b-ok\nevent: price\ndata: {}\n\n');
      res.write('id: b-ok\nevent: price\ndata: {}\n\nevent: status\ndata: {}\n\n');
      // The second subscriber is cut off by the server; the first stays open until the runner closes it.
      if (served === 2) setTimeout(() => res.end(), 20);
    });
    const subs = openStreamSubscribers(s.url, 2);
    // The cut-off one is closed once the runner has read it to its end; the other's events were sent before.
    await until(() => served === 2 && s.closedConnections() === 1);
    const figures = subs.close();
    await s.close();
    expect(figures).toMatchObject({
      wanted: 2,
      connected: 2,
      closedEarly: 1,
      priceEvents: { min: 3, median: 3, max: 3 },
      duplicates: 2,
      statusEvents: 2,
    });
    const failed = streamChecks(figures, 10)
      .filter((c) => !c.ok)
      .map((c) => c.name);
    expect(failed).toEqual(['streams cut off', 'events received twice']);
    expect(streamChecks(figures, 100).find((c) => c.name === 'price events per subscriber')?.ok).toBe(false);
  });

  it('do not count a refusal as connected', async () => {
    const s = await server((req, res) => {
      res.writeHead(429, { 'content-type': 'application/problem+json' }).end('{}');
    });
    const subs = openStreamSubscribers(s.url, 3);
    // Each refusal closed by the runner: it has seen the answer.
    await until(() => s.closedConnections() === 3);
    const figures = subs.close();
    await s.close();
    expect(figures.connected).toBe(0);
    expect(figures.failures[0]).toContain('status 429');
    expect(streamChecks(figures, 10)[0]).toMatchObject({ name: 'stream subscribers connected', ok: false });
  });
});
