import net from 'node:net';

/** One response as read off the wire. */
export interface RawResponse {
  readonly status: number;
  /** Lower-case names; repeated headers keep every value. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

export function header(response: RawResponse, name: string): string | undefined {
  return response.headers.find(([n]) => n === name)?.[1];
}

/**
 * Writes `request` (bytes exactly as given) on a new connection, half-closes it, and reads until the server
 * closes. `hung` when the server neither answered nor closed within timeoutMs. The half-close tells the
 * server no more bytes come: a server that would wait for more is not caught here (see RawConnection).
 */
export function exchange(
  port: number,
  request: Buffer | string,
  timeoutMs = 5000,
): Promise<{ raw: Buffer; hung: boolean; reset: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let reset = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ raw: Buffer.concat(chunks), hung: true, reset });
    }, timeoutMs);
    socket.on('connect', () => socket.end(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => (reset = true));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ raw: Buffer.concat(chunks), hung: false, reset });
    });
  });
}

/**
 * Parses back-to-back HTTP/1.1 responses. `headRequest`: the first response answers a HEAD (no body
 * whatever Content-Length says). Throws on bytes that are not a well-formed response.
 */
export function parseResponses(raw: Buffer, headRequest = false): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < raw.length) {
    const end = raw.indexOf('\r\n\r\n', offset);
    if (end === -1)
      throw new Error(`incomplete response head: ${JSON.stringify(raw.subarray(offset).toString())}`);
    const lines = raw.subarray(offset, end).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3}) .*$/.exec(lines[0] ?? '');
    if (statusLine === null) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
    const status = Number(statusLine[1]);
    const headers = lines.slice(1).map((line) => {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`not a header line: ${JSON.stringify(line)}`);
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const;
    });
    offset = end + 4;
    // A parse error is answered before the method is known, so even a HEAD may get its problem body.
    const headWithoutBody =
      headRequest &&
      !responses.some((r) => r.status >= 200) &&
      raw.subarray(offset, offset + 5).toString() !== '{"typ';
    const noBody = status < 200 || status === 204 || status === 304 || headWithoutBody;
    let body: Buffer = Buffer.alloc(0);
    if (!noBody) {
      const length = headers.find(([n]) => n === 'content-length')?.[1];
      const chunked = headers.some(([n, v]) => n === 'transfer-encoding' && /chunked/i.test(v));
      if (length !== undefined) {
        body = raw.subarray(offset, offset + Number(length));
        if (body.length !== Number(length)) throw new Error('body shorter than its Content-Length');
        offset += Number(length);
      } else if (chunked) {
        const parts: Buffer[] = [];
        for (;;) {
          const lineEnd = raw.indexOf('\r\n', offset);
          if (lineEnd === -1) throw new Error('incomplete chunk size');
          const size = parseInt(raw.subarray(offset, lineEnd).toString(), 16);
          offset = lineEnd + 2;
          if (size === 0) {
            offset = raw.indexOf('\r\n', offset) + 2;
            break;
          }
          parts.push(raw.subarray(offset, offset + size));
          offset += size + 2;
        }
        body = Buffer.concat(parts);
      } else {
        body = raw.subarray(offset);
        offset = raw.length;
      }
    }
    responses.push({ status, headers, body });
  }
  return responses;
}

/** What one send on a RawConnection got back. */
export interface Reply {
  readonly raw: Buffer;
  /** Neither a complete answer nor a close within idleMs of the last byte (or of the send). */
  readonly hung: boolean;
  /** The server closed the connection (after answering, or instead of answering). */
  readonly closed: boolean;
  readonly reset: boolean;
}

/**
 * Whether `raw` holds at least `expected` complete final (>= 200) responses, each framed by Content-Length,
 * chunked encoding or a status without a body; a close-delimited body is complete only at the close.
 */
export function completeResponses(raw: Buffer, expected: number, headRequest = false): boolean {
  let responses: RawResponse[];
  try {
    responses = parseResponses(raw, headRequest);
  } catch {
    return false;
  }
  const finals = responses.filter((r) => r.status >= 200);
  if (finals.length < expected) return false;
  const last = finals[finals.length - 1] as RawResponse;
  const bodiless = last.status === 204 || last.status === 304 || (headRequest && finals.length === 1);
  return (
    bodiless ||
    header(last, 'content-length') !== undefined ||
    last.headers.some(([n, v]) => n === 'transfer-encoding' && /chunked/i.test(v))
  );
}

/**
 * One kept-alive connection: requests are written without a FIN, so a server that waits for more bytes
 * than it was sent shows as `hung` (no answer and no close within idleMs), and several requests can be
 * sent one after another on the same socket to check the state the first one left behind.
 */
export class RawConnection {
  private readonly chunks: Buffer[] = [];
  private closed = false;
  private reset = false;
  private wake: () => void = () => undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.wake();
    });
    socket.on('error', () => {
      this.reset = true;
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Writes `request` and reads until `expected` complete responses are in (then at once, unless one says
   * `Connection: close`: then until the close), the server closes, or nothing arrives for idleMs.
   */
  send(
    request: Buffer | string,
    options: { expected?: number; headRequest?: boolean; idleMs?: number } = {},
  ) {
    const expected = options.expected ?? 1;
    const idleMs = options.idleMs ?? 1000;
    this.chunks.length = 0;
    return new Promise<Reply>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (hung: boolean) => {
        clearTimeout(timer);
        this.wake = () => undefined;
        resolve({ raw: Buffer.concat(this.chunks), hung, closed: this.closed, reset: this.reset });
      };
      const idle = () => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(true), idleMs);
      };
      this.wake = () => {
        if (this.closed) return finish(false);
        const raw = Buffer.concat(this.chunks);
        if (completeResponses(raw, expected, options.headRequest)) {
          const closing = parseResponses(raw, options.headRequest).some((r) =>
            /(^|,)\s*close\s*(,|$)/i.test(header(r, 'connection') ?? ''),
          );
          if (!closing) return finish(false);
        }
        idle();
      };
      if (this.closed) return finish(false);
      idle();
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
