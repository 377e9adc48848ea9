/**
 * Subscribers of the price stream held open by the runner while Artillery polls (Artillery's HTTP engine waits
 * for a body to end, which a stream never does). Each one reads its events as a browser's EventSource would,
 * and counts what matters to a subscriber: price events received, any id received twice, an early close.
 */
import http from 'node:http';
import type { Check } from './slo-gates';

export interface StreamFigures {
  wanted: number;
  /** Answered 200 text/event-stream. */
  connected: number;
  /** Ended by the server (or an error) before the runner closed them. */
  closedEarly: number;
  /** Price events per subscriber: fewest, median, most. */
  priceEvents: { min: number; median: number; max: number };
  /** A price event whose id the same subscriber had already received. */
  duplicates: number;
  statusEvents: number;
  failures: string[];
}

interface Subscriber {
  request: http.ClientRequest;
  connected: boolean;
  closedEarly: boolean;
  prices: number;
  statuses: number;
  duplicates: number;
  seen: Set<string>;
}

export function openStreamSubscribers(url: string, count: number): { close(): StreamFigures } {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const failures: string[] = [];
  let closing = false;
  const subscribers: Subscriber[] = [];
  for (let i = 0; i < count; i++) {
    const sub: Subscriber = {
      request: http.get(url, { agent, headers: { accept: 'text/event-stream' } }),
      connected: false,
      closedEarly: false,
      prices: 0,
      statuses: 0,
      duplicates: 0,
      seen: new Set(),
    };
    sub.request.on('response', (res) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
        if (failures.length < 5) failures.push(`status ${res.statusCode} ${res.headers['content-type']}`);
        res.resume();
        return;
      }
      sub.connected = true;
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let id: string | undefined;
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('id: ')) id = line.slice(4);
          }
          if (event === 'price') {
            sub.prices++;
            if (id !== undefined) {
              if (sub.seen.has(id)) sub.duplicates++;
              sub.seen.add(id);
            }
          } else if (event === 'status') sub.statuses++;
        }
      });
      res.on('end', () => {
        if (!closing) sub.closedEarly = true;
      });
    });
    sub.request.on('error', (error) => {
      if (closing) return;
      sub.closedEarly = true;
      if (failures.length < 5) failures.push(error.message);
    });
    subscribers.push(sub);
  }
  return {
    close() {
      closing = true;
      for (const sub of subscribers) sub.request.destroy();
      agent.destroy();
      const prices = subscribers
        .filter((s) => s.connected)
        .map((s) => s.prices)
        .sort((a, b) => a - b);
      return {
        wanted: count,
        connected: prices.length,
        closedEarly: subscribers.filter((s) => s.closedEarly).length,
        priceEvents: {
          min: prices[0] ?? 0,
          median: prices[Math.floor(prices.length / 2)] ?? 0,
          max: prices.at(-1) ?? 0,
        },
        duplicates: subscribers.reduce((sum, s) => sum + s.duplicates, 0),
        statusEvents: subscribers.reduce((sum, s) => sum + s.statuses, 0),
        failures,
      };
    },
  };
}

/** What a subscriber must have seen for the run to pass. */
export function streamChecks(f: StreamFigures, plannedSeconds: number): Check[] {
  // The primary publishes a snapshot each refresh interval (1 s) as the mock's price walks: one event per 5 s
  // at the least is a subscriber being served, not one that merely stayed connected.
  const least = Math.floor(plannedSeconds / 5);
  return [
    {
      name: 'stream subscribers connected',
      ok: f.connected === f.wanted,
      limit: `= ${f.wanted}`,
      actual: `${f.connected}${f.failures.length > 0 ? ` (${f.failures.join('; ')})` : ''}`,
      margin: '',
    },
    {
      name: 'streams cut off',
      ok: f.closedEarly === 0,
      limit: '0',
      actual: String(f.closedEarly),
      margin: '',
    },
    {
      name: 'price events per subscriber',
      ok: f.priceEvents.min >= least,
      limit: `>= ${least} each`,
      actual: `fewest ${f.priceEvents.min}, median ${f.priceEvents.median}, most ${f.priceEvents.max}`,
      margin: '',
    },
    {
      name: 'events received twice',
      ok: f.duplicates === 0,
      limit: '0',
      actual: String(f.duplicates),
      margin: '',
    },
  ];
}
