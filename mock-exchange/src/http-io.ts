import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Reply } from './exchanges';

export function send(res: ServerResponse, reply: Reply): void {
  // The client may have gone away during an injected latency.
  if (res.destroyed) return;
  res.writeHead(reply.status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(reply.body),
    ...reply.headers,
  });
  res.end(reply.body);
}

const MAX_CONTROL_BODY_BYTES = 16 * 1024;

export type JsonBody = { readonly value: unknown } | { readonly error: string };

/** Reads a small JSON request body; control input only, so anything large or malformed is refused. */
export function readJsonBody(req: IncomingMessage): Promise<JsonBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining rather than destroying the request, or the 400 could not be sent on this socket.
      if (size <= MAX_CONTROL_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', () => resolve({ error: 'request body could not be read' }));
    req.on('end', () => {
      if (size > MAX_CONTROL_BODY_BYTES)
        return resolve({ error: `body larger than ${MAX_CONTROL_BODY_BYTES} bytes` });
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({ error: 'a JSON body is required' });
      try {
        resolve({ value: JSON.parse(text) as unknown });
      } catch {
        resolve({ error: 'body is not valid JSON' });
      }
    });
  });
}
