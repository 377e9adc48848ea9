import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { drainProblems, startKeepAliveLoad } from '../../../scripts/containers/drain';

// The container check's client tally (scripts/containers/drain.ts) against servers on loopback: a connection
// accepted and reset before its first answer fails it, and so does one reset before the client's own
// 'connect' event fired; a server that answers everything passes it.
async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function tallyAgainst(server: net.Server, enough: (answered: number, failed: number) => boolean) {
  const url = await listen(server);
  try {
    const load = startKeepAliveLoad(url, 4, 1);
    const deadline = Date.now() + 10_000;
    while (!enough(load.tally.answered, load.tally.resetBeforeFirstAnswer) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    return await load.stop();
  } finally {
    if (server instanceof http.Server) server.closeAllConnections();
    server.close();
  }
}

test('When every connection is answered, then the drain check finds nothing', async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  const tally = await tallyAgainst(server, (answered) => answered >= 50);
  expect(drainProblems(tally)).toStrictEqual([]);
});

test('When connections are accepted and reset before any answer, then the drain check fails on them', async () => {
  // Answers one request per connection, then resets the next connection unanswered, in turn.
  let accepted = 0;
  const server = net.createServer((socket) => {
    if (accepted++ % 2 === 1) {
      socket.resetAndDestroy();
      return;
    }
    socket.once('data', () =>
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'),
    );
  });
  const tally = await tallyAgainst(server, (answered, resets) => answered >= 10 && resets >= 10);
  expect(tally.resetBeforeFirstAnswer).toBeGreaterThanOrEqual(10);
  expect(tally.droppedOnLiveConnection).toBe(0);
  expect(drainProblems(tally)).toContain(
    `${tally.resetBeforeFirstAnswer} connections reset before their first answer`,
  );
});
