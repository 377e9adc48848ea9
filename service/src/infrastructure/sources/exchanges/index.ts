import type { ExchangeAdapter, ExchangeName } from '../exchange-adapter';
import { binance } from './binance';
import { bybit } from './bybit';
import { coinbase } from './coinbase';
import { kraken } from './kraken';
import { kucoin } from './kucoin';
import { okx } from './okx';

/** Every supported exchange's adapter, by name. */
export const ADAPTERS: Record<ExchangeName, ExchangeAdapter> = Object.freeze({
  binance,
  okx,
  coinbase,
  kraken,
  kucoin,
  bybit,
});
