import http from 'node:http';

/**
 * Keep-alive clients polling one URL while the service is stopped, each request classified by what its
 * connection had seen: a request lost on a connection that had answered before is "dropped on a live
 * connection"; a connection reset before any answer was accepted and then abandoned by the listener.
 * A refused connection (the listener is closed) is what a client of a stopped instance should see.
 */
export interface DrainTally {
  answered: number;
  statuses: Record<string, number>;
  droppedOnLiveConnection: number;
  resetBeforeFirstAnswer: number;
  refused: number;
  otherErrors: Record<string, number>;
}

export interface LoadHandle {
  tally: DrainTally;
  /** Stops polling and waits for every client's last request to settle. */
  stop(): Promise<DrainTally>;
}

const CONNECT_TIMEOUT_MS = 1000;

export function startKeepAliveLoad(url: string, clients: number, thinkMs = 5): LoadHandle {
  const tally: DrainTally = {
    answered: 0,
    statuses: {},
    droppedOnLiveConnection: 0,
    resetBeforeFirstAnswer: 0,
    refused: 0,
    otherErrors: {},
  };
  let running = true;
  const answeredSockets = new WeakSet<object>();
  const agents: http.Agent[] = [];

  function once(agent: http.Agent): Promise<void> {
    return new Promise((resolve) => {
      const req = http.get(url, { agent, timeout: 15_000 }, (res) => {
        res.resume();
        res.once('end', () => {
          answeredSockets.add(req.socket as object);
          tally.answered += 1;
          tally.statuses[res.statusCode ?? 0] = (tally.statuses[res.statusCode ?? 0] ?? 0) + 1;
          resolve();
        });
        res.once('error', () => resolve());
      });
      // A connection attempt to a stopped container's address gets no answer at all: not a connection.
      let connected = false;
      req.once('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once('connect', () => (connected = true));
      });
      const connectTimer = setTimeout(() => {
        if (!connected) req.destroy(Object.assign(new Error('connect timeout'), { code: 'ECONNREFUSED' }));
      }, CONNECT_TIMEOUT_MS);
      req.once('close', () => clearTimeout(connectTimer));
      req.once('timeout', () => req.destroy(new Error('client timeout')));
      req.once('error', (error: NodeJS.ErrnoException) => {
        const socket = req.socket as object | null;
        const live = req.reusedSocket || (socket !== null && answeredSockets.has(socket));
        if (live) tally.droppedOnLiveConnection += 1;
        // A reset can beat the client's own 'connect' event: the handshake was completed (a SYN nothing
        // listens for is refused, not reset), then the connection was reset unaccepted.
        else if (error.code === 'ECONNRESET' || (connected && /socket hang up/.test(error.message)))
          tally.resetBeforeFirstAnswer += 1;
        else if (error.code === 'ECONNREFUSED' || !connected) tally.refused += 1;
        else {
          const key = error.code ?? error.message;
          tally.otherErrors[key] = (tally.otherErrors[key] ?? 0) + 1;
        }
        resolve();
      });
    });
  }

  async function client(): Promise<void> {
    // One connection at a time per client, reused while the server keeps it open, as a polling client does.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    while (running) {
      await once(agent);
      await new Promise((r) => setTimeout(r, thinkMs));
    }
  }

  const loops = Array.from({ length: clients }, () => client());
  return {
    tally,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const agent of agents) agent.destroy();
      return tally;
    },
  };
}

/**
 * What fails the check: a request dropped on a live connection, or a connection reset before its first
 * answer (the client cannot tell whether its request was served). The drain closes every worker's listener
 * before any response tells a client to reconnect, so a reconnecting client is refused, never reset
 * (docs/deployment.md).
 */
export function drainProblems(t: DrainTally): string[] {
  const problems: string[] = [];
  if (t.droppedOnLiveConnection > 0)
    problems.push(`${t.droppedOnLiveConnection} requests dropped on a live connection`);
  if (t.resetBeforeFirstAnswer > 0)
    problems.push(`${t.resetBeforeFirstAnswer} connections reset before their first answer`);
  const errors = Object.entries(t.otherErrors);
  if (errors.length > 0) problems.push(`other errors: ${errors.map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  const bad = Object.entries(t.statuses).filter(([s]) => s !== '200');
  if (bad.length > 0) problems.push(`non-200 answers: ${bad.map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  if (t.answered === 0) problems.push('no request was answered: the load never reached the service');
  return problems;
}

export function describeTally(t: DrainTally): string {
  return (
    `${t.answered} answered (${Object.entries(t.statuses)
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ')}), ` +
    `${t.droppedOnLiveConnection} dropped on a live connection, ${t.resetBeforeFirstAnswer} reset before a first answer, ` +
    `${t.refused} not connected (refused or unreachable once the listener closed)`
  );
}
