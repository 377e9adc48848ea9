import type { PriceSnapshot } from '../application/price-snapshot';
import type { HistoryRequest, HistoryResponse } from './history-ipc';

/** IPC between the cluster primary and its workers. */
export type PrimaryMessage =
  | { readonly type: 'snapshot'; readonly snapshot: PriceSnapshot }
  | { readonly type: 'metrics-request'; readonly id: number }
  | { readonly type: 'shutdown' }
  | HistoryResponse;

export type WorkerMessage =
  { readonly type: 'metrics-response'; readonly id: number; readonly metrics: unknown } | HistoryRequest;

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string'
  );
}
