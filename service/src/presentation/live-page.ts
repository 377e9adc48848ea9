import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveStaticAsset, staticAsset, type StaticAsset } from './static-asset';

/**
 * The live page at `/`: static HTML, a stylesheet and a few lines of script, no framework and nothing from
 * another origin. The script follows the price stream (EventSource) and draws the price, status, sources,
 * age and a sparkline of recent prices, and beside it the last hour's 1-minute candles from the candles
 * route (fetched on the first price and again at most every 10 s as prices arrive; a gap is left blank). Kept as strings in a module so the build output carries them
 * without a copy step; each is served with its own strong ETag and a CSP that allows only this origin's
 * script, style and stream.
 */

const CSS = `:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.1rem; font-weight: 600; }
#price { font-size: 3rem; font-variant-numeric: tabular-nums; margin: 0.2rem 0; }
.meta { display: flex; gap: 1.5rem; flex-wrap: wrap; font-size: 0.95rem; }
.status-ok { color: #1a7f37; } .status-degraded { color: #9a6700; }
.status-stale, .status-unavailable { color: #cf222e; }
.charts { display: flex; gap: 1rem; margin: 1rem 0; }
figure { flex: 1; margin: 0; }
figcaption { font-size: 0.8rem; opacity: 0.7; }
#spark, #candles { width: 100%; height: 80px; }
#spark polyline { fill: none; stroke: currentColor; stroke-width: 1.5; }
#candles line { stroke: currentColor; stroke-width: 0.5; }
#candles .up { fill: #1a7f37; } #candles .down { fill: #cf222e; }
table { border-collapse: collapse; font-size: 0.9rem; width: 100%; }
td, th { text-align: left; padding: 0.2rem 0.6rem 0.2rem 0; font-variant-numeric: tabular-nums; }
#connection { font-size: 0.85rem; opacity: 0.7; }
`;

const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M1 12l4-5 3 3 6-8" fill="none" stroke="#1a7f37" stroke-width="2"/></svg>';

const SCRIPT = `'use strict';
(() => {
  const pair = document.body.dataset.pair;
  const el = (id) => document.getElementById(id);
  const recent = [];
  let shown;
  let receivedAt = 0;

  function setStatus(value) {
    el('status').textContent = value;
    el('status').className = 'status-' + value;
  }
  function age() {
    if (shown === undefined) return;
    el('age').textContent = ((shown.ageMs + Date.now() - receivedAt) / 1000).toFixed(1) + ' s';
  }
  function sparkline() {
    const svg = el('spark');
    const values = recent.map(Number);
    const min = Math.min(...values);
    const span = Math.max(...values) - min || 1;
    const step = values.length > 1 ? 300 / (values.length - 1) : 0;
    svg.querySelector('polyline').setAttribute(
      'points',
      values.map((v, i) => (i * step).toFixed(1) + ',' + (76 - ((v - min) / span) * 72).toFixed(1)).join(' '),
    );
  }
  function sources(list) {
    const body = el('sources');
    body.replaceChildren(
      ...list.map((s) => {
        const row = document.createElement('tr');
        for (const text of [s.exchange, s.state, s.price ?? '', s.error ?? '']) {
          const cell = document.createElement('td');
          cell.textContent = text;
          row.append(cell);
        }
        return row;
      }),
    );
  }

  // The last hour's 1m candles (the route's default range): wick high to low, body open to close.
  const SVG = 'http://www.w3.org/2000/svg';
  let candlesAt = 0;
  function shape(name, attributes) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    return node;
  }
  async function candles() {
    candlesAt = Date.now();
    const response = await fetch('/api/v1/prices/' + pair + '/candles?interval=1m');
    if (!response.ok) return;
    const list = (await response.json()).candles;
    const drawn = list.filter((c) => !c.gap && c.open != null);
    const values = drawn.flatMap((c) => [Number(c.high), Number(c.low)]);
    const min = Math.min(...values);
    const span = Math.max(...values) - min || 1;
    const y = (v) => (76 - ((Number(v) - min) / span) * 72).toFixed(1);
    const width = 300 / Math.max(1, list.length);
    el('candles').replaceChildren(
      ...list.flatMap((c, i) => {
        if (c.gap || c.open == null) return [];
        const x = i * width + width / 2;
        const group = shape('g', { class: Number(c.close) >= Number(c.open) ? 'up' : 'down' });
        const title = shape('title', {});
        title.textContent = c.start.slice(11, 16) + ' o ' + c.open + ' h ' + c.high + ' l ' + c.low + ' c ' + c.close;
        const top = Math.min(Number(y(c.open)), Number(y(c.close)));
        group.append(
          title,
          shape('line', { x1: x, x2: x, y1: y(c.high), y2: y(c.low) }),
          shape('rect', {
            x: (x - width * 0.35).toFixed(1),
            width: (width * 0.7).toFixed(1),
            y: top,
            height: Math.max(0.5, Math.abs(Number(y(c.open)) - Number(y(c.close)))),
          }),
        );
        return [group];
      }),
    );
  }

  const stream = new EventSource('/api/v1/prices/' + pair + '/stream');
  stream.addEventListener('price', (event) => {
    shown = JSON.parse(event.data);
    receivedAt = Date.now();
    el('price').textContent = shown.price;
    el('pair').textContent = shown.pair;
    el('quorum').textContent = shown.quorum.used + ' of ' + shown.quorum.configured;
    setStatus(shown.status);
    sources(shown.sources);
    recent.push(shown.price);
    if (recent.length > 120) recent.shift();
    sparkline();
    age();
    if (Date.now() - candlesAt >= 10000) candles().catch(() => undefined);
  });
  stream.addEventListener('status', (event) => setStatus(JSON.parse(event.data).status));
  stream.addEventListener('open', () => (el('connection').textContent = 'live'));
  stream.addEventListener('error', () => (el('connection').textContent = 'reconnecting…'));
  setInterval(age, 250);
})();
`;

function html(pair: string, symbol: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${symbol} live price</title>
<link rel="stylesheet" href="/live.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<script src="/live.js" defer></script>
</head>
<body data-pair="${pair}">
<h1><span id="pair">${symbol}</span> · median of the exchanges</h1>
<p id="price">…</p>
<div class="meta">
<span>status <strong id="status">connecting</strong></span>
<span>age <strong id="age">–</strong></span>
<span>sources <strong id="quorum">–</strong></span>
<span id="connection">connecting…</span>
</div>
<div class="charts">
<figure><svg id="spark" viewBox="0 0 300 80" preserveAspectRatio="none" role="img" aria-label="recent prices"><polyline points=""/></svg><figcaption>recent prices</figcaption></figure>
<figure><svg id="candles" viewBox="0 0 300 80" preserveAspectRatio="none" role="img" aria-label="1-minute candles, last hour"></svg><figcaption>last hour, 1-minute candles</figcaption></figure>
</div>
<table><thead><tr><th>exchange</th><th>state</th><th>mid</th><th>error</th></tr></thead><tbody id="sources"></tbody></table>
<p><a href="/api/">API</a> · <a href="/api/openapi.json">OpenAPI</a></p>
</body>
</html>
`;
}

/** The page's own policy: this origin's script, style and stream, nothing else. */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const LIVE_PAGE_PATHS = ['/', '/live.js', '/live.css', '/favicon.svg'] as const;

/** Serves the three files from prebuilt bytes; `common` is the app's header list, its CSP replaced. */
export function createLivePage(options: {
  pair: { slug: string; symbol: string };
  common: readonly string[];
}) {
  const common: string[] = [];
  for (let i = 0; i < options.common.length; i += 2) {
    if ((options.common[i] as string).toLowerCase() === 'content-security-policy') continue;
    common.push(options.common[i] as string, options.common[i + 1] as string);
  }
  common.push('Content-Security-Policy', PAGE_CSP);
  const slug = options.pair.slug.replace(/[^a-z0-9-]/g, '');
  const symbol = options.pair.symbol.replace(/[^A-Z0-9/]/g, '');
  const asset = (type: string, text: string) => staticAsset(type, Buffer.from(text), common);
  const assets = new Map<string, StaticAsset>([
    ['/', asset('text/html; charset=utf-8', html(slug, symbol))],
    ['/live.js', asset('text/javascript; charset=utf-8', SCRIPT)],
    ['/live.css', asset('text/css; charset=utf-8', CSS)],
    ['/favicon.svg', asset('image/svg+xml', ICON)],
  ]);
  return {
    /** Answers GET/HEAD of one of LIVE_PAGE_PATHS. */
    serve(req: IncomingMessage, res: ServerResponse, path: string): number {
      return serveStaticAsset(req, res, assets.get(path) as StaticAsset);
    },
  };
}
