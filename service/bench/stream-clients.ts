/**
 * make bench's stream subscribers, in their own process (so the bench's own event loop stays free): raw TCP
 * connections to GET /api/v1/prices/eth-usdt/stream that read everything and note when each price event
 * arrives. Driven over IPC by bench.ts:
 *   { type: 'open', total, port? } → opens connections (to `port` if given: the bare baseline's) until `total`
 *                             are open, replies { type: 'opened', open, failed }
 *   { type: 'close' }       → closes every connection, replies { type: 'closed' } once all are closed
 *   { type: 'reset' }       → forgets what was received
 *   { type: 'stats' }       → replies { type: 'stats', open, events, spreadsMs: [...] }: per price event id,
 *                             the time from its first to its last arrival over all connections.
 * argv: host port
 */
import net from 'node:net';

const [host = '127.0.0.1', portText = '8000'] = process.argv.slice(2);
let port = Number(portText);
const REQUEST = Buffer.from(
  `GET /api/v1/prices/eth-usdt/stream HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\n\r\n`,
);
const sockets = new Set<net.Socket>();
let events = 0;
let failed = 0;
/** Price event id → [first arrival, last arrival, count] (performance.now() ms). */
let arrivals = new Map<string, [number, number, number]>();
const ID = /\nid: ([^\n]+)\nevent: price\n/g;

function connect(): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    let opened = false;
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(REQUEST));
    socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      if (!opened) {
        opened = true;
        sockets.add(socket);
        resolve();
      }
      // An event is far smaller than a read: one chunk holds whole events (a split one is missed, rarely).
      const text = `\n${chunk.toString('latin1')}`;
      for (const match of text.matchAll(ID)) {
        events++;
        const id = match[1] as string;
        const seen = arrivals.get(id);
        if (seen === undefined) arrivals.set(id, [now, now, 1]);
        else {
          seen[1] = now;
          seen[2]++;
        }
      }
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      sockets.delete(socket);
      if (!opened) {
        failed++;
        resolve();
      }
    });
  });
}

async function open(total: number): Promise<void> {
  // In batches: a burst of thousands of SYNs overflows the accept queue.
  while (sockets.size < total) {
    const batch = Math.min(200, total - sockets.size);
    await Promise.all(Array.from({ length: batch }, connect));
    if (failed > total) break;
  }
}

async function closeAll(): Promise<void> {
  const closing = [...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
  for (const socket of sockets) socket.destroy();
  await Promise.all(closing);
  failed = 0;
}

process.on('message', (message: { type: string; total?: number; port?: number }) => {
  if (message.type === 'close') {
    void closeAll().then(() => process.send?.({ type: 'closed' }));
  } else if (message.type === 'open') {
    if (message.port !== undefined) port = message.port;
    void open(message.total ?? 0).then(() => process.send?.({ type: 'opened', open: sockets.size, failed }));
  } else if (message.type === 'reset') {
    events = 0;
    arrivals = new Map();
    process.send?.({ type: 'reset' });
  } else if (message.type === 'stats') {
    const complete = [...arrivals.values()].filter(([, , count]) => count >= sockets.size * 0.99);
    process.send?.({
      type: 'stats',
      open: sockets.size,
      events,
      ids: arrivals.size,
      spreadsMs: complete.map(([first, last]) => last - first),
    });
  }
});
process.on('disconnect', () => process.exit(0));
