import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { etagMatches, withExtraHeaders } from './http-headers';

/** A response whose bytes are fixed for the life of the process: built once, served from memory. */
export interface StaticAsset {
  readonly body: Buffer;
  readonly etag: string;
  readonly headers: readonly string[];
  readonly notModified: readonly string[];
}

/**
 * The bytes with a strong ETag (their hash) and `Cache-Control: no-cache`: a cache may keep them but asks
 * again each time, answered 304 while the deploy is the same. `common` is the app's header list.
 */
export function staticAsset(contentType: string, body: Buffer, common: readonly string[]): StaticAsset {
  const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`;
  const notModified = [...common, 'ETag', etag, 'Cache-Control', 'no-cache'];
  return {
    body,
    etag,
    notModified,
    headers: ['Content-Type', contentType, 'Content-Length', String(body.length), ...notModified],
  };
}

/** GET/HEAD of a static asset, through the one conditional-request check; returns the status written. */
export function serveStaticAsset(req: IncomingMessage, res: ServerResponse, asset: StaticAsset): number {
  if (etagMatches(req, asset.etag)) {
    res.writeHead(304, withExtraHeaders(res, asset.notModified) as string[]);
    res.end();
    return 304;
  }
  res.writeHead(200, withExtraHeaders(res, asset.headers) as string[]);
  res.end(req.method === 'HEAD' ? undefined : asset.body);
  return 200;
}
