/**
 * Reads responses off a raw socket, so that make bench can give the bare baseline the service's exact head
 * (header names as written, their order, their values) and check that both sides put the same head on the
 * wire.
 */
import net from 'node:net';

export interface RawResponse {
  /** The head as received, up to and without the blank line. */
  head: string;
  /** The header list (name, value, …) without those node:http writes itself (Date, Connection, Keep-Alive). */
  headers: string[];
  /** What followed the head, up to `until` returning true. */
  body: Buffer;
}

const NODE_OWN = new Set(['date', 'connection', 'keep-alive']);

/** GET `url` over a new connection; reads until `complete(head, body)` holds, then closes. */
export function rawGet(
  url: string,
  complete: (head: string, body: Buffer) => boolean,
  extraHeaders = '',
): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(target.port), target.hostname);
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response from ${url}`));
    }, 10_000);
    socket.once('connect', () =>
      socket.write(`GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n${extraHeaders}\r\n`),
    );
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = received.toString('latin1', 0, end);
      const body = received.subarray(end + 4);
      if (!complete(head, body)) return;
      clearTimeout(timer);
      socket.destroy();
      const headers = head
        .split('\r\n')
        .slice(1)
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()])
        .filter(([name]) => !NODE_OWN.has((name as string).toLowerCase()))
        .flat() as string[];
      resolve({ head, headers, body });
    });
  });
}

/** A complete body of the Content-Length the head announces. */
export const hasContentLength = (head: string, body: Buffer) =>
  body.length >= Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? Infinity);

/**
 * Where two heads differ, other than in the values of headers that change with the price or the time (Date,
 * Age, ETag's value of the same length, Content-Length: the body's digits move with the price).
 */
export function headDifference(service: string, bare: string): string | undefined {
  const shape = (head: string) =>
    head
      .split('\r\n')
      .map((line) =>
        line
          .replace(/^(date|age|content-length):.*$/i, '$1: …')
          // The lifetime counts down with the price's age: its numbers may differ, not the directives.
          .replace(/^(cache-control):.*$/i, (line: string) => line.replace(/\d+/g, '#'))
          .replace(
            /^(etag): (.*)$/i,
            (_all, name: string, value: string) => `${name}: (${value.length} bytes)`,
          ),
      )
      .join('\n');
  const a = shape(service);
  const b = shape(bare);
  return a === b ? undefined : `service head:\n${a}\nbare head:\n${b}`;
}
