import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../domain/errors';

/** RFC 9457 problem details. `type` is a stable URN per error code (docs/api.md lists them). */
export interface Problem {
  readonly status: number;
  readonly code: ErrorCode;
  readonly title: string;
  readonly detail: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

const TYPE_PREFIX = 'urn:problem-type:eth-usdt-price-service:';

export function problemType(code: ErrorCode): string {
  return TYPE_PREFIX + code.toLowerCase().replaceAll('_', '-');
}

export function sendProblem(
  res: ServerResponse,
  problem: Problem,
  headers: Record<string, string> = {},
): void {
  const { status, code, title, detail, instance, ...extensions } = problem;
  const body = JSON.stringify({
    type: problemType(code),
    title,
    status,
    detail,
    instance,
    code,
    ...extensions,
  });
  res.writeHead(status, {
    'Content-Type': 'application/problem+json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}
