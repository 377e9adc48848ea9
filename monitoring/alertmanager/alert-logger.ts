import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * The out-of-the-box Alertmanager receiver: accepts webhook notifications on POST /<receiver> and writes
 * each alert as one JSON line on stdout, where Alloy picks it up for Loki. No dependencies, so the
 * compose file runs it straight from the official node image (`node alert-logger.ts`, Node >= 23.6 strips
 * the types).
 */

const MAX_BODY_BYTES = 1024 * 1024;

interface WebhookAlert {
  status?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  fingerprint?: string;
}

interface WebhookPayload {
  receiver?: string;
  status?: string;
  groupKey?: string;
  groupLabels?: Record<string, string>;
  alerts?: WebhookAlert[];
}

export function createAlertLogger(write: (line: string) => void): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      let payload: WebhookPayload;
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload;
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('body is not JSON\n');
        return;
      }
      const route = (req.url ?? '/').replace(/^\//, '') || 'default';
      for (const alert of payload.alerts ?? []) {
        write(
          JSON.stringify({
            time: new Date().toISOString(),
            level: alert.status === 'firing' && alert.labels?.severity === 'critical' ? 'error' : 'warn',
            msg: `${alert.status ?? 'unknown'}: ${alert.labels?.alertname ?? 'unnamed alert'}`,
            service: 'alert-logger',
            route,
            receiver: payload.receiver,
            alertname: alert.labels?.alertname,
            status: alert.status,
            severity: alert.labels?.severity,
            labels: alert.labels,
            summary: alert.annotations?.summary,
            description: alert.annotations?.description,
            runbook_url: alert.annotations?.runbook_url,
            // The notification this alert came in: Alertmanager's group (route.group_by) and its key.
            group_labels: payload.groupLabels,
            group_key: payload.groupKey,
            starts_at: alert.startsAt,
            ends_at: alert.status === 'resolved' ? alert.endsAt : undefined,
            fingerprint: alert.fingerprint,
          }),
        );
      }
      res.writeHead(204).end();
    });
  });
}

if (process.argv[1]?.endsWith('alert-logger.ts')) {
  const port = Number(process.env.PORT ?? 9095);
  const server = createAlertLogger((line) => process.stdout.write(`${line}\n`));
  server.listen(port, '0.0.0.0', () =>
    process.stdout.write(`${JSON.stringify({ msg: `alert-logger listening on :${port}` })}\n`),
  );
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
