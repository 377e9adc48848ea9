import type { IncomingMessage, ServerResponse } from 'node:http';
import { withExtraHeaders } from './http-headers';

/** A JSON answer with the common headers; no body for HEAD (the same Content-Length as GET). */
export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: readonly string[],
): number {
  const body = Buffer.from(JSON.stringify(value));
  const list = [
    ...headers,
    'Content-Type',
    'application/json; charset=utf-8',
    'Content-Length',
    String(body.length),
  ];
  res.writeHead(status, withExtraHeaders(res, list) as string[]);
  res.end(req.method === 'HEAD' ? undefined : body);
  return status;
}
