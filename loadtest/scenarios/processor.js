// Hooks shared by the scenarios. They run in Artillery's workers for every response, so they stay cheap:
// a regular expression over the body, no JSON.parse.
'use strict';
const { appendFileSync } = require('node:fs');

// The runner sets this: one line per 5xx, "<sent at ms> <status>", so it can tell 5xx before and after the
// service reported ready (cold start).
const FAILURES_FILE = process.env.LOADTEST_FAILURES_FILE;
const STATUS = /"status":"([a-z]+)"/;
// A price is a decimal string: digits, an optional fraction, never a JSON number or an exponent.
const PRICE =
  /^\{"pair":"[A-Z0-9]+\/[A-Z0-9]+","price":"\d+(\.\d+)?","bid":"\d+(\.\d+)?","ask":"\d+(\.\d+)?"/;

function markSent(req, context, events, next) {
  context.vars.$sentAt = Date.now();
  return next();
}

/** Counts each 200's `status` (ok, degraded, stale) and any body whose price is not a decimal string. */
function inspectPrice(req, res, context, events, next) {
  const code = res.statusCode;
  if (code === 200) {
    const body = typeof res.body === 'string' ? res.body : '';
    const status = STATUS.exec(body);
    events.emit('counter', `price.status.${status ? status[1] : 'missing'}`, 1);
    if (!PRICE.test(body)) events.emit('counter', 'price.body_invalid', 1);
  } else if (code >= 500) {
    if (FAILURES_FILE) appendFileSync(FAILURES_FILE, `${context.vars.$sentAt ?? Date.now()} ${code}\n`);
  }
  return next();
}

/** Times for the history routes, relative to now (Unix ms): an instant a second ago, a day ago, now. */
function historyTimes(context, events, next) {
  const now = Date.now();
  context.vars.now = now;
  context.vars.secondAgo = now - 1000;
  context.vars.dayAgo = now - 86_400_000;
  return next();
}

// Every history body carries decimal strings too: a price, a twap or candle figures, or a batch's prices.
const HISTORY_DECIMAL = /"(price|twap|open|close)":"\d+(\.\d+)?"/;

/** Counts history answers by route kind and any 200 without a decimal price in it; logs 5xx like prices. */
function inspectHistory(req, res, context, events, next) {
  const code = res.statusCode;
  const kind = /\/candles/.test(req.url)
    ? 'candles'
    : /\/at\//.test(req.url)
      ? 'at'
      : /\/twap/.test(req.url)
        ? 'twap'
        : 'batch';
  events.emit('counter', `history.${kind}.${code}`, 1);
  if (code === 200 && !HISTORY_DECIMAL.test(typeof res.body === 'string' ? res.body : '')) {
    events.emit('counter', 'price.body_invalid', 1);
  } else if (code >= 500 && FAILURES_FILE) {
    appendFileSync(FAILURES_FILE, `${context.vars.$sentAt ?? Date.now()} ${code}\n`);
  }
  return next();
}

module.exports = { markSent, inspectPrice, historyTimes, inspectHistory };
