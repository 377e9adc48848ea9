import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, kustomize, type Doc } from './lib/kubectl';
import { validateWithModels } from './lib/models';
import { FIXTURES, K8S, OVERLAYS, VARIANTS_DIR } from './lib/paths';
import {
  checkAll,
  checkApiVersions,
  checkNetworkPolicies,
  checkProbes,
  checkSecurity,
  checkSelection,
  checkServiceEnv,
  checkShutdown,
  checkWorkers,
  containerEnv,
} from './lib/policy';
import { promtoolCheckRules } from './lib/promtool';
import { serviceContract } from './lib/service-contract';
import { typecheck } from './lib/typecheck';

// Every overlay and every broken fixture is rendered with a real kubectl kustomize, then each document
// goes through four validators: kubernetes-models' schemas, a TypeScript `satisfies` check (unknown
// fields), the policy checks (lib/policy.ts) and, for PrometheusRules, promtool.

const fixtures = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== 'compose')
  .map((e) => e.name)
  .sort();
// Valid variants: an overlay with the optional components (k8s/test/variants/), checked like the overlays.
const VARIANTS = readdirSync(VARIANTS_DIR).sort();
const targets = [
  ...OVERLAYS.map((name) => ({ name, dir: join(K8S, 'overlays', name) })),
  ...VARIANTS.map((name) => ({ name: `variants/${name}`, dir: join(VARIANTS_DIR, name) })),
  ...fixtures.map((name) => ({ name: `fixtures/${name}`, dir: join(FIXTURES, name) })),
];

const rendered = new Map<string, Doc[]>();
const modelErrors = new Map<string, string[]>();
const typeErrors = new Map<string, string[]>();
const promtoolErrors = new Map<string, string[]>();
const contract = serviceContract();

const docId = (target: string, d: Doc) => `${target}#${d.kind}/${d.metadata.name}`;
function collect(into: Map<string, string[]>, results: { id: string; errors: string[] }[]) {
  for (const { id, errors } of results) {
    const [target, doc] = id.split('#') as [string, string];
    into.set(target, [...(into.get(target) ?? []), ...errors.map((e) => `${doc}: ${e}`)]);
  }
}
const docs = (target: string) => rendered.get(target) ?? [];
const one = <T = Doc>(target: string, kind: string, name?: string) =>
  docs(target).find((d) => d.kind === kind && (name === undefined || d.metadata.name === name)) as T;

beforeAll(async () => {
  kubectl(); // fetches it on the first run (scripts/fetch-kubectl.sh)
  const outputs = await Promise.all(targets.map((t) => kustomize(t.dir)));
  targets.forEach((t, i) => rendered.set(t.name, (outputs[i] as { docs: Doc[] }).docs));
  const items = targets.flatMap((t) => docs(t.name).map((doc) => ({ id: docId(t.name, doc), doc })));
  const rules = targets.flatMap((t) =>
    docs(t.name)
      .filter((d) => d.kind === 'PrometheusRule')
      .map((d) => ({ t, d })),
  );
  const [models, types, checked] = await Promise.all([
    validateWithModels(items),
    typecheck(items),
    Promise.all(
      rules.map(async ({ t, d }) => ({ id: docId(t.name, d), result: await promtoolCheckRules(d) })),
    ),
  ]);
  collect(modelErrors, models);
  collect(typeErrors, types);
  collect(
    promtoolErrors,
    checked.map(({ id, result }) => ({ id, errors: result.ok ? [] : [result.output.trim()] })),
  );
}, 120_000);

describe.each(OVERLAYS)('overlays/%s', (overlay) => {
  it('When rendered, then it holds the workload, its Service, autoscaler, disruption budget and network policy', () => {
    const kinds = docs(overlay).map((d) => `${d.kind}/${d.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'Namespace/' + (overlay === 'production' ? 'price-service' : 'price-service-dev'),
        'ServiceAccount/price-service',
        'Deployment/price-service',
        'Service/price-service',
        'HorizontalPodAutoscaler/price-service',
        'PodDisruptionBudget/price-service',
        'NetworkPolicy/price-service',
      ]),
    );
    for (const d of docs(overlay))
      if (d.kind !== 'Namespace') expect(d.metadata.namespace).toBe(one(overlay, 'Namespace').metadata.name);
  });

  it('When every document is validated against the Kubernetes and Prometheus Operator schemas, then none fails', () => {
    expect(modelErrors.get(overlay)).toEqual([]);
  });

  it('When every document is type-checked against the models (satisfies), then no field is unknown or mistyped', () => {
    expect(typeErrors.get(overlay)).toEqual([]);
  });

  it('When the policy checks run (API versions, security, probes, shutdown, selection, settings), then none fails', () => {
    expect(checkAll(docs(overlay), contract)).toEqual([]);
  });

  it('When its namespace is read, then Pod Security Admission enforces the restricted profile', () => {
    expect(one(overlay, 'Namespace').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
  });
});

describe('overlays/production', () => {
  type Deployment = {
    spec: {
      template: {
        spec: {
          containers: {
            image: string;
            env: { name: string; valueFrom: { secretKeyRef: { name: string; optional: boolean } } }[];
          }[];
        };
      };
    };
  };
  const container = () =>
    one<Deployment>('production', 'Deployment', 'price-service').spec.template.spec.containers[0];

  it('When the image is read, then it is pinned by digest', () => {
    expect(container()?.image).toMatch(/^[a-z0-9.-]+(\/[a-z0-9._-]+)+:[\w.-]+@sha256:[0-9a-f]{64}$/);
  });

  it('When REDIS_URL is read, then it comes from a required Secret that is not in the manifests', () => {
    const redis = container()?.env.find((e) => e.name === 'REDIS_URL');
    expect(redis?.valueFrom.secretKeyRef).toMatchObject({ name: 'price-service-redis', optional: false });
    expect(docs('production').filter((d) => d.kind === 'Secret')).toEqual([]);
  });

  it('When the autoscaler is read, then at least two replicas run and scale-down waits five minutes', () => {
    const hpa = one<{
      spec: {
        minReplicas: number;
        maxReplicas: number;
        behavior: { scaleDown: { stabilizationWindowSeconds: number } };
      };
    }>('production', 'HorizontalPodAutoscaler');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
  });

  it('When monitoring is read, then a ServiceMonitor scrapes the metrics port and the rules are loaded', () => {
    const sm = one<{ spec: { endpoints: { port: string; path: string }[] } }>('production', 'ServiceMonitor');
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
    expect(one('production', 'PrometheusRule', 'price-service')).toBeDefined();
  });

  it('When the PrometheusRule is checked with promtool check rules, then every rule parses', () => {
    expect(docs('production').filter((d) => d.kind === 'PrometheusRule')).toHaveLength(1);
    expect(promtoolErrors.get('production')).toEqual([]);
  });

  it('When the network policy is read, then metrics are open only to Prometheus in the monitoring namespace', () => {
    const np = one<{ spec: { ingress: { from?: unknown[]; ports: { port: string }[] }[] } }>(
      'production',
      'NetworkPolicy',
      'price-service',
    );
    const metrics = np.spec.ingress.filter((r) => r.ports.some((p) => p.port === 'metrics'));
    expect(metrics).toEqual([
      expect.objectContaining({
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          },
        ],
      }),
    ]);
    expect(np.spec.ingress.find((r) => r.ports.some((p) => p.port === 'http'))?.from).toBeUndefined();
  });
});

describe('minimum versions', () => {
  const readme = readFileSync(join(K8S, 'README.md'), 'utf8');
  const text = (...parts: string[]) => readFileSync(join(K8S, ...parts), 'utf8');
  type Pod = {
    spec: { template: { spec: { containers: { lifecycle?: { preStop?: { sleep?: unknown } } }[] } } };
  };

  it('When a pod uses lifecycle.preStop.sleep, then k8s/README.md and the Deployment state Kubernetes >= 1.30', () => {
    const usesSleep = OVERLAYS.some((o) =>
      docs(o)
        .filter((d) => d.kind === 'Deployment')
        .some((d) =>
          (d as unknown as Pod).spec.template.spec.containers.some((c) => c.lifecycle?.preStop?.sleep),
        ),
    );
    expect(usesSleep).toBe(true);
    expect(readme).toMatch(/\| Kubernetes \*\*1\.30\*\* +\| `lifecycle\.preStop\.sleep`/);
    expect(text('base', 'deployment.yaml')).toMatch(/preStop\.sleep needs Kubernetes >= 1\.30/);
  });

  it('When a ServiceMonitor sets scrapeProtocols, then k8s/README.md and the ServiceMonitor state the operator version', () => {
    const sm = one<{ spec: { scrapeProtocols?: string[] } }>('production', 'ServiceMonitor');
    expect(sm.spec.scrapeProtocols?.length).toBeGreaterThan(0);
    expect(readme).toMatch(
      /\| prometheus-operator \*\*v0\.72\*\* +\| the ServiceMonitor's `scrapeProtocols`/,
    );
    expect(text('components', 'monitoring', 'servicemonitor.yaml')).toMatch(/prometheus-operator >= v0\.72/);
  });
});

describe.each(VARIANTS)('variants/%s', (name) => {
  const target = `variants/${name}`;

  it('When it is validated (schemas, types, policy), then nothing fails', () => {
    expect(docs(target).length).toBeGreaterThan(0);
    expect(modelErrors.get(target)).toEqual([]);
    expect(typeErrors.get(target)).toEqual([]);
    expect(checkAll(docs(target), contract)).toEqual([]);
  });
});

describe('optional components', () => {
  type Policy = {
    spec: { egress: { to: Record<string, unknown>[]; ports: { port: number; protocol: string }[] }[] };
  };
  const target = 'variants/production-optional';

  it('When node-local-dns is added, then DNS may also go to the node-local cache on UDP and TCP 53', () => {
    const np = one<Policy>(target, 'NetworkPolicy', 'price-service-node-local-dns');
    expect(np.spec.egress).toEqual([
      {
        to: [{ ipBlock: { cidr: '169.254.20.10/32' } }],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
    ]);
  });

  it('When otlp-egress is added, then the OTLP ports are open to the collector and the service exports to it', () => {
    const np = one<Policy>(target, 'NetworkPolicy', 'price-service-otlp');
    expect(np.spec.egress[0]?.ports.map((p) => p.port)).toEqual([4317, 4318]);
    const app = one<{ spec: { template: { spec: { containers: never[] } } } }>(
      target,
      'Deployment',
      'price-service',
    );
    const { env } = containerEnv(
      docs(target),
      'price-service',
      app.spec.template.spec.containers[0] as never,
    );
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toMatch(/^http:\/\/.+:4318$/);
  });

  it('When the production overlay alone sets an OTLP endpoint, then the egress check says the spans are dropped', () => {
    const withEndpoint = docs('production').map((d) =>
      d.kind === 'ConfigMap'
        ? {
            ...d,
            data: { ...(d.data as object), OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.monitoring:4318' },
          }
        : d,
    );
    expect(checkNetworkPolicies(withEndpoint)).toEqual([
      'Deployment/price-service: egress: OTEL_EXPORTER_OTLP_ENDPOINT is set but no rule allows TCP 4318: every span is dropped (components/otlp-egress)',
    ]);
  });
});

describe('overlays/dev', () => {
  it('When rendered, then it runs its own Redis with nothing persisted and points REDIS_URL at it', () => {
    type Pod = {
      spec: { template: { spec: { containers: { args: string[] }[]; volumes: { emptyDir?: unknown }[] } } };
    };
    const redis = one<Pod>('dev', 'Deployment', 'redis');
    const args = redis.spec.template.spec.containers[0]?.args ?? [];
    expect(args.join(' ')).toContain('--save  --appendonly no --maxmemory 64mb');
    expect(redis.spec.template.spec.volumes.every((v) => v.emptyDir !== undefined)).toBe(true);
    expect(docs('dev').some((d) => d.kind === 'PersistentVolumeClaim' || d.kind === 'StatefulSet')).toBe(
      false,
    );

    const service = one<{ spec: { ports: { port: number }[] } }>('dev', 'Service', 'redis');
    const app = one<{ spec: { template: { spec: { containers: never[] } } } }>(
      'dev',
      'Deployment',
      'price-service',
    );
    const { env, unresolved } = containerEnv(
      docs('dev'),
      'price-service-dev',
      app.spec.template.spec.containers[0] as never,
    );
    expect(unresolved).toEqual([]);
    expect(env.REDIS_URL).toBe(`redis://redis:${service.spec.ports[0]?.port}`);
    expect(env.LOG_LEVEL).toBe('debug');
  });

  it('When the image is read, then it is the locally built price-service:dev', () => {
    type Pod = { spec: { template: { spec: { containers: { image: string }[] } } } };
    const app = one<Pod>('dev', 'Deployment', 'price-service');
    expect(app.spec.template.spec.containers[0]?.image).toBe('price-service:dev');
  });
});

/**
 * Each broken fixture (k8s/test/fixtures/<name>/kustomization.yaml, the production overlay with one
 * mistake) and what must reject it. `accepted` names validators that are known to let that mistake
 * through: the reason the others exist.
 */
const FIXTURES_EXPECTED: Record<
  string,
  {
    rejectedBy: 'models' | 'types' | 'policy' | 'promtool';
    error: RegExp;
    check?: (d: Doc[]) => string[];
    accepted?: ('models' | 'types')[];
  }
> = {
  'typo-field': {
    rejectedBy: 'types',
    error: /"runAsNonRooot"' does not exist in type 'ISecurityContext'/,
    accepted: ['models'],
  },
  'wrong-type': {
    rejectedBy: 'models',
    error: /containerPort must be integer|imagePullPolicy must be equal to one of the allowed values/,
  },
  'missing-probe': {
    rejectedBy: 'policy',
    check: (d) => checkProbes(d, contract),
    error: /readinessProbe is missing/,
  },
  'bad-probe-path': {
    rejectedBy: 'policy',
    check: (d) => checkProbes(d, contract),
    error: /readinessProbe path \/healthz is not a route/,
  },
  'short-grace': {
    rejectedBy: 'policy',
    check: (d) => checkShutdown(d, contract),
    error: /terminationGracePeriodSeconds 10 s is shorter/,
  },
  'double-drain': { rejectedBy: 'policy', check: (d) => checkShutdown(d, contract), error: /drains twice/ },
  'selector-mismatch': {
    rejectedBy: 'policy',
    check: checkSelection,
    error: /Service\/price-service: selector .* matches no pod/,
  },
  'removed-api': {
    rejectedBy: 'policy',
    check: checkApiVersions,
    error: /policy\/v1beta1 is not current/,
    accepted: ['models'],
  },
  'unknown-env': {
    rejectedBy: 'policy',
    check: (d) => checkServiceEnv(d, contract),
    error: /env REDIS_TIMEOUT_MS is not a setting/,
    accepted: ['models', 'types'],
  },
  'bad-env-value': {
    rejectedBy: 'policy',
    check: (d) => checkServiceEnv(d, contract),
    error: /loadConfig rejects .*LOG_LEVEL/,
    accepted: ['models', 'types'],
  },
  'servicemonitor-port': {
    rejectedBy: 'policy',
    check: checkSelection,
    error: /endpoint port http-metrics is not a port name/,
    accepted: ['models', 'types'],
  },
  insecure: { rejectedBy: 'policy', check: checkSecurity, error: /readOnlyRootFilesystem must be true/ },
  'labels-include-selectors': {
    rejectedBy: 'policy',
    check: checkNetworkPolicies,
    error: /egress: no rule allows DNS[\s\S]*peer .*app\.kubernetes\.io\/part-of=eth-usdt-price/,
    accepted: ['models', 'types'],
  },
  'prometheus-peer-labels': {
    rejectedBy: 'policy',
    check: checkNetworkPolicies,
    error: /ingress peer in namespace monitoring .*app\.kubernetes\.io\/part-of=eth-usdt-price/,
    accepted: ['models', 'types'],
  },
  'redis-egress-port': {
    rejectedBy: 'policy',
    check: checkNetworkPolicies,
    error:
      /egress: no rule allows TCP 6380 to Redis \(REDIS_URL redis:6379 -> Service redis port 6379 -> pod port 6380\)/,
    accepted: ['models', 'types'],
  },
  'workers-over-cpu': {
    rejectedBy: 'policy',
    check: (d) => checkWorkers(d, contract),
    error: /WORKERS 4 exceeds the CPU request 1 \(rounded up: 1\)/,
    accepted: ['models', 'types'],
  },
  'bad-rule': {
    rejectedBy: 'promtool',
    error: /vector\(1|unclosed|parse error/,
    accepted: ['models', 'types'],
  },
};

describe('broken fixtures', () => {
  it('When the fixtures are listed, then each one has an expected rejection (and each has a folder)', () => {
    expect(fixtures).toEqual(Object.keys(FIXTURES_EXPECTED).sort());
  });

  it.each(Object.entries(FIXTURES_EXPECTED))(
    'When fixtures/%s is validated, then the expected validator rejects it',
    (name, expected) => {
      const target = `fixtures/${name}`;
      expect(docs(target).length).toBeGreaterThan(0);
      const found =
        expected.rejectedBy === 'models'
          ? modelErrors.get(target)
          : expected.rejectedBy === 'types'
            ? typeErrors.get(target)
            : expected.rejectedBy === 'promtool'
              ? promtoolErrors.get(target)
              : (expected.check as (d: Doc[]) => string[])(docs(target));
      expect(found?.join('\n')).toMatch(expected.error);
      // The whole policy run rejects every fixture that a policy check is meant to catch.
      if (expected.rejectedBy === 'policy')
        expect(checkAll(docs(target), contract).join('\n')).toMatch(expected.error);
      for (const validator of expected.accepted ?? [])
        expect((validator === 'models' ? modelErrors : typeErrors).get(target)).toEqual([]);
    },
  );
});

// K8S_REPORT=1 prints what each validator said about each fixture.
afterAll(() => {
  if (!process.env.K8S_REPORT) return;
  for (const [name, expected] of Object.entries(FIXTURES_EXPECTED)) {
    const target = `fixtures/${name}`;
    const lines = [
      ...(modelErrors.get(target) ?? []).map((e) => `models: ${e}`),
      ...(typeErrors.get(target) ?? []).map((e) => `types: ${e}`),
      ...checkAll(docs(target), contract).map((e) => `policy: ${e}`),
      ...(promtoolErrors.get(target) ?? []).map((e) => `promtool: ${e}`),
    ];
    console.log(`${name} (${expected.rejectedBy}):\n  ${lines.join('\n  ')}`);
  }
});
