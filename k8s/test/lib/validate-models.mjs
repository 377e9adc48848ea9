// Validates Kubernetes documents with kubernetes-models and @kubernetes-models/prometheus-operator (JSON
// schemas of Kubernetes 1.36 and the operator's CRDs). Both are ESM-only, so Jest (CommonJS) runs this
// file as a child process: a JSON array of { id, doc } on stdin, a JSON array of { id, errors } on stdout.
// What it does not catch (unknown fields, removed API versions) the type check and the policy checks do.
import { text } from 'node:stream/consumers';

const OPERATOR_GROUPS = new Set(['monitoring.coreos.com']);

function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (OPERATOR_GROUPS.has(group)) return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  return group === ''
    ? `kubernetes-models/${version}/${kind}`
    : `kubernetes-models/${group}/${version}/${kind}`;
}

const input = JSON.parse(await text(process.stdin));
const results = [];
for (const { id, doc } of input) {
  const errors = [];
  if (typeof doc?.apiVersion !== 'string' || typeof doc?.kind !== 'string') {
    errors.push('apiVersion and kind are required');
  } else {
    let Model;
    try {
      Model = (await import(modulePath(doc.apiVersion, doc.kind)))[doc.kind];
    } catch {
      Model = undefined;
    }
    if (typeof Model !== 'function') errors.push(`no schema for ${doc.apiVersion} ${doc.kind}`);
    else {
      try {
        new Model(doc).validate();
      } catch (error) {
        errors.push(String(error?.message ?? error));
      }
    }
  }
  results.push({ id, errors });
}
process.stdout.write(JSON.stringify(results));
