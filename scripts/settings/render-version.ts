/**
 * The copies of package.json's version that cannot import it: the OpenAPI document's info.version and the
 * production overlay's version label and image tag. Each is rewritten in place, keeping the rest of the file.
 */

export interface VersionCopy {
  readonly path: string;
  readonly render: (text: string, version: string) => string;
}

function replaceAll(path: string, text: string, pattern: RegExp, value: string): string {
  let found = false;
  const out = text.replace(pattern, (_match, before: string) => {
    found = true;
    return `${before}${value}`;
  });
  if (!found) throw new Error(`${path}: no ${pattern.source} to set the version in`);
  return out;
}

export const VERSION_COPIES: readonly VersionCopy[] = [
  {
    path: 'service/openapi.json',
    render: (text, version) =>
      replaceAll(
        'service/openapi.json',
        text,
        /("info"\s*:\s*\{[^{}]*?"version"\s*:\s*")[^"]*(?=")/,
        version,
      ),
  },
  {
    path: 'k8s/overlays/production/kustomization.yaml',
    render: (text, version) => {
      const path = 'k8s/overlays/production/kustomization.yaml';
      const labelled = replaceAll(path, text, /(app\.kubernetes\.io\/version:[ \t]*)[^\s#]+/g, version);
      // The image the release pipeline pins: its tag, and the example in the comment above it.
      const tagged = replaceAll(path, labelled, /(\bnewTag:[ \t]*)[^\s#]+/g, version);
      return tagged.replace(/(eth-usdt-price-service:)[0-9][^@\s]*(?=@)/g, `$1${version}`);
    },
  },
];
