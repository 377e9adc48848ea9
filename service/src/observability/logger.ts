import { trace } from '@opentelemetry/api';
import cluster from 'node:cluster';
import winston from 'winston';

/**
 * JSON lines on stdout: time, level, msg, service, worker, and trace_id/span_id of the active span, so Loki's
 * derived field can jump from a log line to its trace.
 */
export function createLogger(options: { level: string; service: string; silent?: boolean }): winston.Logger {
  const worker = cluster.isPrimary ? 'primary' : `worker-${cluster.worker?.id ?? 0}`;
  const traceContext = winston.format((info) => {
    const span = trace.getActiveSpan();
    if (span !== undefined) {
      const context = span.spanContext();
      info.trace_id = context.traceId;
      info.span_id = context.spanId;
    }
    return info;
  });
  return winston.createLogger({
    level: options.level,
    silent: options.silent ?? false,
    defaultMeta: { service: options.service, worker },
    format: winston.format.combine(
      traceContext(),
      winston.format.timestamp({ alias: 'time' }),
      winston.format((info) => {
        // Loki and most log tooling expect "msg"; keep the field names stable for the Promtail pipeline.
        info.msg = info.message;
        delete (info as { message?: unknown }).message;
        delete (info as { timestamp?: unknown }).timestamp;
        return info;
      })(),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}

export type Logger = winston.Logger;
