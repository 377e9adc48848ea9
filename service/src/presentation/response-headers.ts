import type { ServerResponse } from 'node:http';

const EXTRA = Symbol('extra response headers');
type Carrying = ServerResponse & { [EXTRA]?: string[] };

/**
 * Per-request headers (the echoed CORS origin, the rate limit state) kept beside the response instead of
 * set on it: a response with any header set by setHeader makes writeHead(status, list) go through
 * setHeader for every pair of the prebuilt list, so they are appended to that list instead.
 */
export function addHeader(res: ServerResponse, name: string, value: string): void {
  const carrying = res as Carrying;
  const extra = carrying[EXTRA];
  if (extra === undefined) carrying[EXTRA] = [name, value];
  else extra.push(name, value);
}

/** `list` with the response's extra headers appended (the list itself when there are none). */
export function withExtraHeaders(res: ServerResponse, list: readonly string[]): readonly string[] {
  const extra = (res as Carrying)[EXTRA];
  return extra === undefined ? list : [...list, ...extra];
}

/** Sets the extra headers on the response, for code that writes through setHeader (Express, the stream). */
export function flushExtraHeaders(res: ServerResponse): void {
  const carrying = res as Carrying;
  const extra = carrying[EXTRA];
  if (extra === undefined) return;
  for (let i = 0; i < extra.length; i += 2) res.setHeader(extra[i] as string, extra[i + 1] as string);
  carrying[EXTRA] = undefined;
}
