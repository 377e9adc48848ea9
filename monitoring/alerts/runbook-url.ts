/**
 * Every alert's runbook_url comes from one pattern, like kube-prometheus's runbookURLPattern:
 *
 *   <RUNBOOK_URL_BASE>/<alert name in kebab-case>.md      PriceQuorumLost -> .../price-quorum-lost.md
 *
 * The base defaults to the docs/runbooks/ folder of the repository on GitHub. package.json, the README and
 * the docs name no repository URL, so the default is the project's name under an organisation of the same
 * name; a fork or a mirror renders its own links with RUNBOOK_URL_BASE=... make generate.
 */
export const DEFAULT_RUNBOOK_URL_BASE =
  'https://github.com/eth-usdt-price-service/eth-usdt-price-service/blob/main/docs/runbooks';

/** The base URL the rules are rendered with: RUNBOOK_URL_BASE from the environment, else the default. */
export function runbookUrlBase(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.RUNBOOK_URL_BASE?.trim() || DEFAULT_RUNBOOK_URL_BASE;
  if (!/^https?:\/\/[^\s]+$/.test(base)) throw new Error(`RUNBOOK_URL_BASE must be an http(s) URL: ${base}`);
  return base.replace(/\/+$/, '');
}

/** PriceQuorumLost -> price-quorum-lost: the runbook page's file name without .md. */
export function runbookPage(alert: string): string {
  return alert.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export function runbookUrl(alert: string, base = runbookUrlBase()): string {
  return `${base}/${runbookPage(alert)}.md`;
}

/** The page in this repository a runbook URL of the given base points at (docs/runbooks/x.md), if any. */
export function runbookPath(url: string, base = runbookUrlBase()): string | undefined {
  const prefix = `${base}/`;
  return url.startsWith(prefix) ? `docs/runbooks/${url.slice(prefix.length)}` : undefined;
}
