import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleControlRequest } from './control-routes';
import { handleExchangeRequest } from './exchange-routes';
import { jsonReply } from './exchanges';
import { send } from './http-io';
import { mockExchangeClient, type MockExchangeClient } from './mock-exchange-client';
import { isExchangeName } from './quotes';
import { createState, type MockState } from './state';

export { expectedQuote, EXCHANGES, PAIRS, QUOTE_PROFILES } from './quotes';
export type { ExchangeName, ExpectedQuote, PairSymbol } from './quotes';
export type { Fault, FaultType, RateLimitStatus } from './faults';
export { START_MIDS } from './price-walk';
export { mockExchangeClient } from './mock-exchange-client';
export type { FaultTarget, MockExchangeClient, PriceInfo } from './mock-exchange-client';

export interface MockExchangeOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /** Interval between random-walk steps of the reference prices; default 250 ms. */
  readonly tickMs?: number;
}

export interface MockExchange {
  /** "http://127.0.0.1:43123", no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** The base URL to configure as a source: `${url}/${exchange}`. */
  baseUrlFor(exchange: string): string;
  /** The control API of this instance. */
  readonly client: MockExchangeClient;
  /** Stops listening and drops every connection, keep-alive ones included. */
  close(): Promise<void>;
}

const CONTROL_PREFIX = '/__control';

/**
 * Longer than any sensible client idle timeout, like the load balancers in front of real exchanges: a
 * server that closes idle sockets first makes clients that reuse them see spurious ECONNRESETs.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

async function handle(req: IncomingMessage, res: ServerResponse, state: MockState): Promise<void> {
  let url: URL;
  try {
    // Concatenated rather than resolved against a base, so that "//x" stays a path and not a host.
    url = new URL(`http://mock-exchange${req.url ?? '/'}`);
  } catch {
    return send(res, jsonReply(400, { message: 'Bad Request' }));
  }
  const path = url.pathname;
  if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
    return handleControlRequest(req, res, state, path.slice(CONTROL_PREFIX.length), url.searchParams);
  }
  const slash = path.indexOf('/', 1);
  const prefix = slash === -1 ? path.slice(1) : path.slice(1, slash);
  if (!isExchangeName(prefix)) return send(res, jsonReply(404, { message: 'Not Found' }));
  return handleExchangeRequest(
    req,
    res,
    state,
    prefix,
    slash === -1 ? '' : path.slice(slash),
    url.searchParams,
  );
}

/** Starts the mock exchange: six exchanges' ticker APIs plus the control API, on one port. */
export async function startMockExchange(options: MockExchangeOptions = {}): Promise<MockExchange> {
  const host = options.host ?? '127.0.0.1';
  const state = createState(options.tickMs ?? 250);

  const server = createServer((req, res) => {
    handle(req, res, state).catch(() => {
      if (!res.headersSent) send(res, jsonReply(500, { message: 'Internal Server Error' }));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    port,
    baseUrlFor: (exchange) => `${url}/${exchange}`,
    client: mockExchangeClient(url),
    close: () =>
      new Promise<void>((resolve, reject) => {
        state.dispose();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
