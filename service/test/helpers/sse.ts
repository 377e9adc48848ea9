import http from 'node:http';

export interface SseEvent {
  readonly id?: string;
  readonly event: string;
  readonly data: string;
}

export interface SseClient {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Raw body when the answer was not a stream (a problem+json). */
  readonly body: () => string;
  readonly events: SseEvent[];
  readonly comments: string[];
  readonly retry: number[];
  readonly ended: Promise<void>;
  /** Resolves with the first event (from `from` on) that satisfies the predicate. */
  next(predicate: (event: SseEvent) => boolean, timeoutMs?: number, from?: number): Promise<SseEvent>;
  close(): void;
}

/** A server-sent events client over its own TCP connection that parses the stream as a browser does. */
export function openStream(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers }, (res) => {
      req.setTimeout(0);
      const events: SseEvent[] = [];
      const comments: string[] = [];
      const retry: number[] = [];
      const waiters = new Set<() => void>();
      let raw = '';
      let buffer = '';
      let id: string | undefined;
      let event = 'message';
      let data: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (data.length > 0) events.push({ id, event, data: data.join('\n') });
            event = 'message';
            data = [];
            id = undefined;
          } else if (line.startsWith(':')) comments.push(line.slice(1));
          else {
            const colon = line.indexOf(':');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') id = value;
            else if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
            else if (field === 'retry') retry.push(Number(value));
          }
        }
        for (const wake of waiters) wake();
      });
      const ended = new Promise<void>((done) => {
        res.on('close', () => {
          for (const wake of waiters) wake();
          done();
        });
      });
      ended.catch(() => undefined);
      res.on('error', () => undefined);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: () => raw,
        events,
        comments,
        retry,
        ended,
        next(predicate, waitMs = timeoutMs, from = 0) {
          return new Promise((found, fail) => {
            const check = () => {
              const hit = events.slice(from).find(predicate);
              if (hit !== undefined) {
                cleanup();
                found(hit);
              } else if (res.complete || res.destroyed) {
                cleanup();
                fail(new Error(`stream ended before the event; got ${JSON.stringify(events.slice(-3))}`));
              }
            };
            const timer = setTimeout(() => {
              cleanup();
              fail(new Error(`no such event within ${waitMs} ms; got ${JSON.stringify(events.slice(-3))}`));
            }, waitMs);
            const cleanup = () => {
              clearTimeout(timer);
              waiters.delete(check);
            };
            waiters.add(check);
            check();
          });
        },
        close() {
          req.destroy();
        },
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('no response headers in time')));
    req.on('error', reject);
  });
}
