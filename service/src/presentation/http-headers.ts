import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Request and response header utilities for every HTTP module: the hot path reads `rawHeaders` (touching
 * `req.headers` builds a header object per request) and appends per-request response headers to prebuilt
 * lists instead of calling setHeader.
 */

/** A header name compared without allocating: rawHeaders keep the client's spelling. */
export function isHeader(name: string, lowerCaseName: string): boolean {
  if (name.length !== lowerCaseName.length) return false;
  // `| 0x20` folds A-Z onto a-z and leaves '-' alone; header names hold no other byte it would confuse.
  for (let i = 0; i < lowerCaseName.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lowerCaseName.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * One request header's value. A field sent on several lines is one list joined with ", " (RFC 9110
 * §5.3): an If-None-Match whose matching tag is on the second line still matches. One line, the usual
 * case, allocates nothing.
 */
export function rawHeader(req: IncomingMessage, lowerCaseName: string): string | undefined {
  const raw = req.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (!isHeader(raw[i] as string, lowerCaseName)) continue;
    value = value === undefined ? (raw[i + 1] as string) : `${value}, ${raw[i + 1] as string}`;
  }
  return value;
}

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

/**
 * If-None-Match against the response's entity tag, by weak comparison (RFC 9110 §13.1.2): `*` matches any
 * current representation, a list matches when any member does, and W/"x" matches "x" either way. Every
 * route with an ETag answers conditional requests through this one function.
 */
export function etagMatches(req: IncomingMessage, etag: string): boolean {
  const header = rawHeader(req, 'if-none-match');
  if (header === undefined) return false;
  if (header === etag) return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if (tag === '*' || (tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true;
  }
  return false;
}
