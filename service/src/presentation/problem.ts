import { STATUS_CODES, type ServerResponse } from 'node:http';
import { withExtraHeaders } from './http-headers';

/**
 * The problem catalogue: every error code the API answers with, its HTTP status and title, and whether an
 * answer with it is an error of ours worth a log line. Codes are part of the public contract (problem+json
 * bodies, docs/api.md, the OpenAPI Problem schema, checked against this table by a test): renaming one is
 * a breaking change.
 */
export const PROBLEMS = {
  PAIR_NOT_SUPPORTED: { status: 404, title: 'Pair not supported' },
  PRICE_UNAVAILABLE: { status: 503, title: 'Price unavailable' },
  ROUTE_NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  REQUEST_HEADER_FIELDS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  EXPECTATION_FAILED: { status: 417, title: 'Expectation failed' },
  TOO_MANY_STREAMS: { status: 429, title: 'Too many streams' },
  STREAM_CAPACITY_EXHAUSTED: { status: 503, title: 'No stream capacity' },
  SERVER_BUSY: { status: 503, title: 'Server busy' },
  INVALID_PARAMETERS: { status: 400, title: 'Invalid parameters' },
  HISTORY_OUT_OF_RANGE: { status: 404, title: 'No history kept for that time' },
  NO_PRICE_IN_EFFECT: { status: 404, title: 'No price in effect' },
  HISTORY_UNAVAILABLE: { status: 503, title: 'History unavailable' },
  INTERNAL: { status: 500, title: 'Internal error', logged: true },
} as const satisfies Record<string, { status: number; title: string; logged?: boolean }>;

export type ProblemCode = keyof typeof PROBLEMS;

/** RFC 9457 problem details: the code names status and title; `type` is a stable URN per code. */
export interface Problem {
  readonly code: ProblemCode;
  readonly detail: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

const TYPE_PREFIX = 'urn:problem-type:eth-usdt-price-service:';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function problemType(code: ProblemCode): string {
  return TYPE_PREFIX + code.toLowerCase().replaceAll('_', '-');
}

/** An answer with this code is an error of ours: log it (the others are the client's or the moment's). */
export function problemIsLogged(code: ProblemCode): boolean {
  return 'logged' in PROBLEMS[code];
}

/** The problem+json body of a problem (also embedded per pair in the batch price route). */
export function problemBody(problem: Problem): string {
  const { code, detail, instance, ...extensions } = problem;
  const { status, title } = PROBLEMS[code];
  return JSON.stringify({ type: problemType(code), title, status, detail, instance, code, ...extensions });
}

/**
 * Writes a problem response. `common` is the header list every response carries (security headers, static
 * CORS headers), built once at start.
 */
export function sendProblem(
  res: ServerResponse,
  problem: Problem,
  common: readonly string[],
  headers: Record<string, string> = {},
): void {
  const body = problemBody(problem);
  const list = [
    ...common,
    'Content-Type',
    PROBLEM_CONTENT_TYPE,
    'Content-Length',
    String(Buffer.byteLength(body)),
    'Cache-Control',
    'no-store',
  ];
  for (const name in headers) list.push(name, headers[name] as string);
  res.writeHead(PROBLEMS[problem.code].status, withExtraHeaders(res, list) as string[]);
  res.end(body);
}

/**
 * A whole HTTP/1.1 problem response as bytes, for a socket the HTTP parser has given up on (there is no
 * ServerResponse then). Always `Connection: close`: after a parse error the stream cannot be trusted.
 */
export function rawProblemResponse(problem: Problem, common: readonly string[]): Buffer {
  const body = problemBody(problem);
  const status = PROBLEMS[problem.code].status;
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`];
  for (let i = 0; i < common.length; i += 2) lines.push(`${common[i]}: ${common[i + 1]}`);
  lines.push(
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
  );
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
