import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePair, type Pair } from '../../../src/domain/pair';

const FIXTURES = path.resolve(__dirname, '../../fixtures/exchanges');

/** A fresh parse of service/test/fixtures/exchanges/<exchange>/<name>.json, safe to mutate. */
export function fixture<T = unknown>(exchange: string, name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, exchange, `${name}.json`), 'utf8')) as T;
}

export function pair(text: string): Pair {
  const parsed = parsePair(text);
  if (!parsed) throw new Error(`bad pair in test: ${text}`);
  return parsed;
}

export const ETH_USDT = pair('ETH/USDT');
export const BTC_USDT = pair('BTC/USDT');

/** The error `fn` throws; fails the test when it throws nothing. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`);
  }
  throw new Error('expected an error, none was thrown');
}
