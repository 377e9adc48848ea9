import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { ErrorCode } from '../domain/errors';
import { withExtraHeaders } from './http-headers';

/**
 * Codes only the HTTP layer answers with (the stream's limits). They belong with the domain's codes in
 * domain/errors.ts; kept here until that file's owner moves them.
 */
export type HttpOnlyCode = 'TOO_MANY_STREAMS' | 'STREAM_CAPACITY_EXHAUSTED';
export type ProblemCode = ErrorCode | HttpOnlyCode;

/** RFC 9457 problem details. `type` is a stable URN per error code (docs/api.md lists them). */
export interface Problem {
  readonly status: number;
  readonly code: ProblemCode;
  readonly title: string;
  readonly detail: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

const TYPE_PREFIX = 'urn:problem-type:eth-usdt-price-service:';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function problemType(code: ProblemCode): string {
  return TYPE_PREFIX + code.toLowerCase().replaceAll('_', '-');
}

function problemBody(problem: Problem): string {
  const { status, code, title, detail, instance, ...extensions } = problem;
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
  res.writeHead(problem.status, withExtraHeaders(res, list) as string[]);
  res.end(body);
}

/**
 * A whole HTTP/1.1 problem response as bytes, for a socket the HTTP parser has given up on (there is no
 * ServerResponse then). Always `Connection: close`: after a parse error the stream cannot be trusted.
 */
export function rawProblemResponse(problem: Problem, common: readonly string[]): Buffer {
  const body = problemBody(problem);
  const lines = [`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}`];
  for (let i = 0; i < common.length; i += 2) lines.push(`${common[i]}: ${common[i + 1]}`);
  lines.push(
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
  );
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
