import type { PriceSnapshot } from '../application/price-snapshot';
import type { QueryRequest, QueryResponse } from './primary-queries';

/** IPC between the cluster primary and its workers. */
export type PrimaryMessage =
  | { readonly type: 'snapshot'; readonly snapshot: PriceSnapshot }
  | { readonly type: 'metrics-request'; readonly id: number }
  | { readonly type: 'shutdown' }
  | QueryResponse
  /** The primary's Redis connection, sent when a worker is ready and whenever it changes (readiness reports it). */
  | { readonly type: 'l2-status'; readonly status: 'up' | 'down' | 'disabled' }
  /** Every worker has closed its listener: responses may now tell clients to close (serving.ts). */
  | { readonly type: 'listeners-closed' };

export type WorkerMessage =
  | { readonly type: 'metrics-response'; readonly id: number; readonly metrics: unknown }
  | QueryRequest
  /** This worker's listening socket is closed (on its way out). */
  | { readonly type: 'listener-closed' }
  /** This worker now hears the primary: a message sent before this is lost (no listener yet). */
  | { readonly type: 'ready' };

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string'
  );
}
