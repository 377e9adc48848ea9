import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isHeader } from './http-headers';
import { rawProblemResponse, sendProblem, type Problem } from './problem';

/** Why a request was turned away before reaching a route: the rejected-requests metric's reasons. */
export const REJECT_REASONS = [
  'bad_request',
  'header_fields_too_large',
  'request_timeout',
  'payload_too_large',
  'expectation_failed',
  'method_not_allowed',
  'server_busy',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface RequestGuardDeps {
  /** A request body declared larger than this is answered 413 without being read. */
  readonly maxBodyBytes: number;
  /** Headers every response carries (security, static CORS). */
  readonly common: readonly string[];
  readonly rejected: (reason: RejectReason) => void;
  /**
   * An answer given here without a route: observed in the request histogram like every other status. The
   * parser's answers come with no request: method UNKNOWN, and the duration is what is known of it (a
   * request timeout took at least the headers timeout; the others are answered as soon as they are seen).
   */
  readonly answered?: (status: number, method: string, seconds: number) => void;
  /** HEADERS_TIMEOUT_MS, for the duration of a 408 (see `answered`). */
  readonly headersTimeoutMs?: number;
}

const problem = (code: Problem['code'], detail: string): Problem => ({ code, detail });

/**
 * What Node's HTTP layer would otherwise answer itself with a bare status line (a missing Host, a parse
 * error, a header timeout, an unknown Expect, CONNECT) is answered here as problem+json, with the same
 * headers as every other response, so clients and the fuzz test see one error format.
 */
export function createRequestGuard(deps: RequestGuardDeps) {
  const parseErrors = {
    bad: rawProblemResponse(problem('BAD_REQUEST', 'The request is not valid HTTP/1.1.'), deps.common),
    headerOverflow: rawProblemResponse(
      problem(
        'REQUEST_HEADER_FIELDS_TOO_LARGE',
        'The request line and headers exceed the size this server accepts.',
      ),
      deps.common,
    ),
    timeout: rawProblemResponse(
      problem('REQUEST_TIMEOUT', 'The request did not arrive in time.'),
      deps.common,
    ),
    connect: rawProblemResponse(
      problem('METHOD_NOT_ALLOWED', 'CONNECT is not allowed here; use GET, HEAD.'),
      [...deps.common, 'Allow', 'GET, HEAD'],
    ),
  };

  /** Writes a prebuilt response on a socket the parser has left, then closes it once written. */
  function answerSocket(socket: Duplex, response: Buffer): void {
    socket.write(response);
    // destroySoon, not end: a client that never closes its side must not keep the socket half-open.
    (socket as Socket).destroySoon();
  }

  return {
    /**
     * Checks the framing of a request before any route sees it; true when it was answered here. One pass
     * over rawHeaders comparing lengths first: no allocation for an ordinary request.
     */
    reject(req: IncomingMessage, res: ServerResponse): boolean {
      const raw = req.rawHeaders;
      // Only HTTP/1.1 requires Host (RFC 9112 §3.2). Node's own check answers a bare 400, so it is off.
      let host = req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1;
      let unboundedBody = false;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i] as string;
        const length = name.length;
        if (length === 4) {
          if (isHeader(name, 'host')) host = true;
        } else if (length === 14) {
          if (isHeader(name, 'content-length') && Number(raw[i + 1]) > deps.maxBodyBytes) {
            res.shouldKeepAlive = false;
            deps.rejected('payload_too_large');
            sendProblem(
              res,
              {
                code: 'PAYLOAD_TOO_LARGE',
                detail: `This API takes no request body; at most ${deps.maxBodyBytes} bytes are read and ignored.`,
                instance: req.url,
              },
              deps.common,
            );
            return true;
          }
        } else if (length === 17 && isHeader(name, 'transfer-encoding')) unboundedBody = true;
      }
      if (!host) {
        deps.rejected('bad_request');
        res.shouldKeepAlive = false;
        sendProblem(
          res,
          {
            code: 'BAD_REQUEST',
            detail: 'An HTTP/1.1 request must carry a Host header.',
            instance: req.url,
          },
          deps.common,
        );
        return true;
      }
      // A chunked body has no declared size: rather than read it to keep the connection, close after the
      // response, so no client can make the server drain an endless body.
      if (unboundedBody) res.shouldKeepAlive = false;
      return false;
    },

    /** http.Server 'clientError': the parser failed or the headers/request timeout fired. */
    clientError(error: Error & { code?: string }, socket: Duplex): void {
      const response = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
      // Same rule as Node's default: never write into a response that has already started.
      if (error.code === 'ECONNRESET' || !socket.writable || (response && response.headersSent)) {
        socket.destroy();
        return;
      }
      if (error.code === 'HPE_HEADER_OVERFLOW') {
        deps.rejected('header_fields_too_large');
        answerSocket(socket, parseErrors.headerOverflow);
        deps.answered?.(431, 'UNKNOWN', 0);
      } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        deps.rejected('request_timeout');
        answerSocket(socket, parseErrors.timeout);
        deps.answered?.(408, 'UNKNOWN', (deps.headersTimeoutMs ?? 0) / 1000);
      } else {
        deps.rejected('bad_request');
        answerSocket(socket, parseErrors.bad);
        deps.answered?.(400, 'UNKNOWN', 0);
      }
    },

    /** A connection accepted over the worker's cap: its first request is told to go elsewhere. */
    overCapacity(req: IncomingMessage, res: ServerResponse): void {
      deps.rejected('server_busy');
      const detail = 'This server holds as many connections as it may; retry, ideally on another replica.';
      sendProblem(res, { code: 'SERVER_BUSY', detail, instance: req.url }, deps.common, {
        'Retry-After': '1',
      });
      deps.answered?.(503, req.method ?? 'UNKNOWN', 0);
    },

    /** http.Server 'checkExpectation': an Expect other than 100-continue. */
    checkExpectation(req: IncomingMessage, res: ServerResponse): void {
      deps.rejected('expectation_failed');
      res.shouldKeepAlive = false;
      sendProblem(
        res,
        {
          code: 'EXPECTATION_FAILED',
          detail: 'The only expectation this server meets is 100-continue.',
          instance: req.url,
        },
        deps.common,
      );
    },

    /** http.Server 'connect': without a listener Node drops the socket without a word. */
    connect(_req: IncomingMessage, socket: Duplex): void {
      deps.rejected('method_not_allowed');
      answerSocket(socket, parseErrors.connect);
      deps.answered?.(405, 'CONNECT', 0);
    },
  };
}

export type RequestGuard = ReturnType<typeof createRequestGuard>;
