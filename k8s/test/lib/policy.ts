import type { Doc } from './kubectl';
import { worstCaseShutdownMs, type ServiceContract } from './service-contract';

/**
 * Checks the schemas cannot make: current API versions, a hardened pod, probes on the service's real
 * routes, a grace period that covers the drain, selectors that select something, the service's real
 * settings. Each returns problems as "Kind/name: what is wrong"; an empty list means it passes.
 */

/** The one API version allowed per kind. Anything else (policy/v1beta1, autoscaling/v2beta2…) is rejected. */
export const API_VERSIONS: Readonly<Record<string, string>> = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
  PrometheusRule: 'monitoring.coreos.com/v1',
};

/* Loose views of the objects: the type check and the schemas have already vetted their shapes. */
type Labels = Record<string, string>;
interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Probe {
  httpGet?: { path?: string; port?: string | number };
  exec?: { command?: string[] };
  tcpSocket?: { port?: string | number };
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type?: string };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown; httpGet?: unknown } };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  volumes?: { name: string; emptyDir?: unknown; persistentVolumeClaim?: unknown; hostPath?: unknown }[];
  topologySpreadConstraints?: { labelSelector?: LabelSelector }[];
}
interface Workload extends Doc {
  spec: {
    selector: LabelSelector;
    template: { metadata?: { labels?: Labels }; spec: PodSpec };
    replicas?: number;
  };
}

const ref = (d: Doc) => `${d.kind}/${d.metadata.name}`;
const ns = (d: Doc) => d.metadata.namespace ?? '';
const ofKind = <T extends Doc = Doc>(docs: Doc[], kind: string) => docs.filter((d) => d.kind === kind) as T[];
const spec = <T>(d: Doc) => (d as unknown as { spec: T }).spec;

/** Whether a label selector selects pods with these labels. An empty selector selects everything. */
export function selects(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key] as string;
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(value))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(value)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const podLabels = (w: Workload) => w.spec.template.metadata?.labels ?? {};
const isEmptySelector = (s: LabelSelector | undefined) =>
  !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);

export function checkApiVersions(docs: Doc[]): string[] {
  return docs.flatMap((d) => {
    const allowed = API_VERSIONS[d.kind];
    if (allowed === undefined) return [`${ref(d)}: kind ${d.kind} is not on the allow-list`];
    return d.apiVersion === allowed
      ? []
      : [`${ref(d)}: apiVersion ${d.apiVersion} is not current (use ${allowed})`];
  });
}

/** kube-prometheus's container hardening, Pod Security "restricted", and no service account token. */
export function checkSecurity(docs: Doc[]): string[] {
  const problems: string[] = [];
  for (const w of ofKind<Workload>(docs, 'Deployment')) {
    const pod = w.spec.template.spec;
    const p = (msg: string) => problems.push(`${ref(w)}: ${msg}`);
    if (pod.automountServiceAccountToken !== false) p('automountServiceAccountToken must be false');
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) p('must not share host namespaces');
    if ((pod.volumes ?? []).some((v) => v.hostPath)) p('must not mount hostPath volumes');
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      const sc = c.securityContext ?? {};
      const q = (msg: string) => p(`container ${c.name}: ${msg}`);
      if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) q('runAsNonRoot must be true');
      if ((sc.runAsUser ?? pod.securityContext?.runAsUser) === 0) q('must not run as uid 0');
      if (sc.allowPrivilegeEscalation !== false) q('allowPrivilegeEscalation must be false');
      if (sc.privileged) q('must not be privileged');
      if (sc.readOnlyRootFilesystem !== true) q('readOnlyRootFilesystem must be true');
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) q('capabilities.drop must include ALL');
      if ((sc.capabilities?.add ?? []).length > 0) q('must not add capabilities');
      const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') q('seccompProfile must be RuntimeDefault');
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) q('needs cpu and memory requests');
      if (!c.resources?.limits?.memory) q('needs a memory limit');
      const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
      const tmpVolume = tmp && (pod.volumes ?? []).find((v) => v.name === tmp.name);
      if (!tmpVolume?.emptyDir) q('needs an emptyDir at /tmp (the root filesystem is read-only)');
    }
  }
  return problems;
}

function probePort(c: Container, probe: Probe): string | number | undefined {
  return probe.httpGet?.port ?? probe.tcpSocket?.port;
}

/** Every container has the three probes; the price service's are HTTP probes on its real health routes. */
export function checkProbes(docs: Doc[], contract: ServiceContract, serviceImage = isPriceService): string[] {
  const problems: string[] = [];
  for (const w of ofKind<Workload>(docs, 'Deployment')) {
    for (const c of w.spec.template.spec.containers) {
      const q = (msg: string) => problems.push(`${ref(w)}: container ${c.name}: ${msg}`);
      for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
        const probe = c[kind];
        if (!probe) {
          q(`${kind} is missing`);
          continue;
        }
        const port = probePort(c, probe);
        if (port !== undefined && !(c.ports ?? []).some((p) => p.name === port || p.containerPort === port))
          q(`${kind} port ${port} is not a container port`);
        if (!serviceImage(c)) continue;
        const path = probe.httpGet?.path;
        const want = kind === 'readinessProbe' ? contract.readinessPath : contract.livenessPath;
        if (path === undefined) q(`${kind} must be an httpGet probe`);
        else if (!contract.routes.has(path)) q(`${kind} path ${path} is not a route of the service`);
        else if (path !== want) q(`${kind} must probe ${want}, not ${path}`);
        if (port !== undefined && port !== 'http' && port !== contract.defaults.port)
          q(`${kind} must probe the API port (http), not ${port}`);
      }
    }
  }
  return problems;
}

export function isPriceService(c: Container): boolean {
  return c.name === 'price-service';
}

/** The container's environment as the kubelet builds it (ConfigMap envFrom, then env values). */
export function containerEnv(
  docs: Doc[],
  namespace: string,
  c: Container,
): { env: Record<string, string>; unresolved: string[] } {
  const env: Record<string, string> = {};
  const unresolved: string[] = [];
  const data = (kind: string, name: string) => {
    const d = docs.find((x) => x.kind === kind && x.metadata.name === name && ns(x) === namespace) as
      (Doc & { data?: Record<string, string>; stringData?: Record<string, string> }) | undefined;
    if (!d) return undefined;
    if (kind === 'Secret' && d.data)
      return Object.fromEntries(
        Object.entries(d.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      );
    return d.data ?? d.stringData ?? {};
  };
  for (const from of c.envFrom ?? []) {
    const src = from.configMapRef
      ? data('ConfigMap', from.configMapRef.name)
      : from.secretRef
        ? data('Secret', from.secretRef.name)
        : undefined;
    if (src) Object.assign(env, src);
    else unresolved.push(`envFrom ${from.configMapRef?.name ?? from.secretRef?.name}`);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const r = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    if (r) {
      const src = data(e.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap', r.name);
      if (src?.[r.key] !== undefined) env[e.name] = src[r.key] as string;
      else unresolved.push(e.name);
    }
  }
  return { env, unresolved };
}

function envNames(c: Container, docs: Doc[], namespace: string): string[] {
  return [
    ...new Set([...Object.keys(containerEnv(docs, namespace, c).env), ...(c.env ?? []).map((e) => e.name)]),
  ];
}

/** Every setting the manifests give the service is one it reads, with a value it accepts; ports agree. */
export function checkServiceEnv(docs: Doc[], contract: ServiceContract): string[] {
  const problems: string[] = [];
  for (const w of ofKind<Workload>(docs, 'Deployment')) {
    for (const c of w.spec.template.spec.containers.filter(isPriceService)) {
      const q = (msg: string) => problems.push(`${ref(w)}: container ${c.name}: ${msg}`);
      for (const name of envNames(c, docs, ns(w)))
        if (!contract.envNames.has(name))
          q(`env ${name} is not a setting the service reads (service/src/config/ (the settings table))`);
      const { env } = containerEnv(docs, ns(w), c);
      let config;
      try {
        config = contract.loadConfig(env);
      } catch (error) {
        q(`loadConfig rejects its settings: ${(error as Error).message.replace(/\s+/g, ' ')}`);
        continue;
      }
      const port = (name: string) => (c.ports ?? []).find((p) => p.name === name)?.containerPort;
      if (port('http') !== config.port) q(`containerPort http ${port('http')} is not PORT ${config.port}`);
      if (port('metrics') !== config.metricsPort)
        q(`containerPort metrics ${port('metrics')} is not METRICS_PORT ${config.metricsPort}`);
    }
  }
  return problems;
}

/**
 * One drain mechanism (a preStop sleep or DRAIN_DELAY_MS, not both), and a grace period that covers the
 * preStop time plus the service's worst-case shutdown.
 */
export function checkShutdown(docs: Doc[], contract: ServiceContract): string[] {
  const problems: string[] = [];
  for (const w of ofKind<Workload>(docs, 'Deployment')) {
    const pod = w.spec.template.spec;
    const graceMs = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
    for (const c of pod.containers) {
      const q = (msg: string) => problems.push(`${ref(w)}: container ${c.name}: ${msg}`);
      if (c.lifecycle?.preStop?.exec) q('preStop exec: use lifecycle.preStop.sleep (no sleep binary needed)');
      const preStopMs = (c.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
      if (preStopMs >= graceMs)
        q(`preStop sleep ${preStopMs} ms leaves nothing of the ${graceMs} ms grace period`);
      if (!isPriceService(c)) continue;
      const { env } = containerEnv(docs, ns(w), c);
      let needed: number;
      let drainDelayMs: number;
      try {
        needed = worstCaseShutdownMs(contract, env);
        drainDelayMs = contract.loadConfig({ WORKERS: '1', ...env }).drainDelayMs;
      } catch {
        continue; // checkServiceEnv reports it
      }
      if (preStopMs > 0 && drainDelayMs > 0)
        q(`drains twice: preStop sleep ${preStopMs} ms and DRAIN_DELAY_MS ${drainDelayMs}; keep one`);
      if (preStopMs === 0 && drainDelayMs === 0)
        q(
          'no drain: neither a preStop sleep nor DRAIN_DELAY_MS, so connections are refused while endpoints update',
        );
      if (graceMs < preStopMs + needed)
        q(
          `terminationGracePeriodSeconds ${graceMs / 1000} s is shorter than preStop ${preStopMs} ms + shutdown ${needed} ms`,
        );
    }
  }
  return problems;
}

/** Services, PDBs, NetworkPolicies and topology spreads select a workload; HPAs target one; ports exist. */
export function checkSelection(docs: Doc[]): string[] {
  const problems: string[] = [];
  const workloads = ofKind<Workload>(docs, 'Deployment');
  const inNs = (d: Doc) => workloads.filter((w) => ns(w) === ns(d));
  const matching = (d: Doc, selector: LabelSelector | undefined) =>
    inNs(d).filter((w) => selects(selector, podLabels(w)));
  const containerPorts = (ws: Workload[]) =>
    ws.flatMap((w) => w.spec.template.spec.containers.flatMap((c) => c.ports ?? []));

  for (const w of workloads) {
    if (!selects(w.spec.selector, podLabels(w)))
      problems.push(`${ref(w)}: its selector does not match its own pod labels`);
    if (
      'version' in (w.spec.selector.matchLabels ?? {}) ||
      'app.kubernetes.io/version' in (w.spec.selector.matchLabels ?? {})
    )
      problems.push(`${ref(w)}: a version label in the selector (selectors are immutable)`);
    for (const t of w.spec.template.spec.topologySpreadConstraints ?? [])
      if (!selects(t.labelSelector, podLabels(w)))
        problems.push(`${ref(w)}: a topology spread constraint does not select its pods`);
  }
  for (const s of ofKind(docs, 'Service')) {
    const sp = spec<{ selector?: Labels; ports?: { name?: string; targetPort?: string | number }[] }>(s);
    const selected = sp.selector ? matching(s, { matchLabels: sp.selector }) : [];
    if (selected.length === 0) {
      problems.push(`${ref(s)}: selector ${JSON.stringify(sp.selector ?? {})} matches no pod`);
      continue;
    }
    for (const p of sp.ports ?? []) {
      if (!p.name) problems.push(`${ref(s)}: every port needs a name`);
      const ports = containerPorts(selected);
      if (
        p.targetPort !== undefined &&
        !ports.some((c) => c.name === p.targetPort || c.containerPort === p.targetPort)
      )
        problems.push(`${ref(s)}: targetPort ${p.targetPort} is not a port of the selected pods`);
    }
  }
  for (const pdb of ofKind(docs, 'PodDisruptionBudget')) {
    const sel = spec<{ selector?: LabelSelector }>(pdb).selector;
    if (isEmptySelector(sel)) problems.push(`${ref(pdb)}: has no selector`);
    else if (matching(pdb, sel).length === 0) problems.push(`${ref(pdb)}: selector matches no pod`);
  }
  for (const hpa of ofKind(docs, 'HorizontalPodAutoscaler')) {
    const sp = spec<{
      scaleTargetRef: { kind: string; name: string };
      minReplicas?: number;
      maxReplicas: number;
      behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } };
    }>(hpa);
    if (
      !inNs(hpa).some((w) => w.kind === sp.scaleTargetRef.kind && w.metadata.name === sp.scaleTargetRef.name)
    )
      problems.push(
        `${ref(hpa)}: scaleTargetRef ${sp.scaleTargetRef.kind}/${sp.scaleTargetRef.name} does not exist`,
      );
    if ((sp.minReplicas ?? 1) > sp.maxReplicas) problems.push(`${ref(hpa)}: minReplicas > maxReplicas`);
    if ((sp.behavior?.scaleDown?.stabilizationWindowSeconds ?? 0) < 60)
      problems.push(`${ref(hpa)}: scale-down stabilisation window under 60 s`);
  }
  for (const np of ofKind(docs, 'NetworkPolicy')) {
    const sp = spec<{
      podSelector: LabelSelector;
      ingress?: {
        from?: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector }[];
        ports?: { port?: string | number }[];
      }[];
      egress?: { to?: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector }[] }[];
    }>(np);
    const selected = matching(np, sp.podSelector);
    if (selected.length === 0) {
      problems.push(`${ref(np)}: podSelector matches no pod`);
      continue;
    }
    const ports = containerPorts(selected);
    for (const rule of sp.ingress ?? []) {
      for (const p of rule.ports ?? [])
        if (typeof p.port === 'string' && !ports.some((c) => c.name === p.port))
          problems.push(`${ref(np)}: ingress port ${p.port} is not a port of the selected pods`);
      for (const peer of rule.from ?? [])
        if (peer.podSelector && !peer.namespaceSelector && matching(np, peer.podSelector).length === 0)
          problems.push(
            `${ref(np)}: ingress peer ${JSON.stringify(peer.podSelector)} matches no pod in the namespace`,
          );
    }
  }
  // A ServiceMonitor selects a Service in its namespace and scrapes a port that Service names.
  for (const sm of ofKind(docs, 'ServiceMonitor')) {
    const sp = spec<{ selector: LabelSelector; endpoints: { port?: string }[] }>(sm);
    const services = ofKind(docs, 'Service').filter(
      (s) => ns(s) === ns(sm) && selects(sp.selector, s.metadata.labels ?? {}),
    );
    if (services.length === 0) {
      problems.push(`${ref(sm)}: selector matches no Service`);
      continue;
    }
    for (const e of sp.endpoints) {
      const names = services
        .flatMap((s) => spec<{ ports?: { name?: string }[] }>(s).ports ?? [])
        .map((p) => p.name);
      if (!e.port || !names.includes(e.port))
        problems.push(`${ref(sm)}: endpoint port ${e.port} is not a port name of the selected Service`);
    }
  }
  return problems;
}

/** A CPU quantity ("500m", "1", "1.5") in cores; NaN when it is not one. */
export function cpuCores(quantity: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(quantity ?? ''));
  if (!m) return Number.NaN;
  return Number(m[1]) / (m[2] === 'm' ? 1000 : 1);
}

/**
 * WORKERS is set (its default is the CPU count the process sees: the node's, not the pod's share) and
 * does not exceed the pod's CPU request rounded up: more HTTP workers than requested cores only compete
 * for them (docs/deployment.md, "Scaling out"). WORKERS=0 runs one standalone process.
 */
export function checkWorkers(docs: Doc[], contract: ServiceContract): string[] {
  const problems: string[] = [];
  for (const w of ofKind<Workload>(docs, 'Deployment')) {
    for (const c of w.spec.template.spec.containers.filter(isPriceService)) {
      const q = (msg: string) => problems.push(`${ref(w)}: container ${c.name}: ${msg}`);
      const { env } = containerEnv(docs, ns(w), c);
      if (env.WORKERS === undefined) {
        q('WORKERS is not set: the service would start one worker per CPU of the node, not of the pod');
        continue;
      }
      let workers: number;
      try {
        workers = Math.max(1, contract.loadConfig(env).workers);
      } catch {
        continue; // checkServiceEnv reports it
      }
      const request = c.resources?.requests?.cpu;
      const cores = cpuCores(request);
      if (Number.isNaN(cores)) {
        q(`CPU request ${request ?? '(none)'} is not a quantity WORKERS can be compared with`);
        continue;
      }
      if (workers > Math.ceil(cores))
        q(
          `WORKERS ${env.WORKERS} exceeds the CPU request ${request} (rounded up: ${Math.ceil(cores)}): set WORKERS <= ceil(requests.cpu)`,
        );
    }
  }
  return problems;
}

/* NetworkPolicy rules. */
interface IpBlock {
  cidr: string;
  except?: string[];
}
interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IpBlock;
}
interface NetworkPolicyPort {
  port?: string | number;
  endPort?: number;
  protocol?: string;
}
interface NetworkPolicyRule {
  from?: NetworkPolicyPeer[];
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}
interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: NetworkPolicyRule[];
  egress?: NetworkPolicyRule[];
}

/** The cluster DNS peer every pod needs: CoreDNS / kube-dns, exactly as it is labelled in kube-system. */
export const DNS_PEER = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
} as const;
/** Ranges the exchanges' egress (TCP 443) must leave closed: private, link-local (cloud metadata). */
export const PRIVATE_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'];
export const PRIVATE_V6 = ['fc00::/7', 'fe80::/10'];
export const EXCHANGE_PORT = 443;
const DEFAULT_REDIS_PORT = 6379;

const sameLabels = (a: Labels | undefined, b: Labels) =>
  JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b).sort());
const exactly = (s: LabelSelector | undefined, labels: Labels) =>
  !!s && (s.matchExpressions ?? []).length === 0 && sameLabels(s.matchLabels, labels);
const showLabels = (s: LabelSelector | undefined) =>
  `{${Object.entries(s?.matchLabels ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')}}`;
const showPeer = (p: NetworkPolicyPeer) =>
  p.ipBlock
    ? `ipBlock ${p.ipBlock.cidr}`
    : [
        p.namespaceSelector && `namespaceSelector ${showLabels(p.namespaceSelector)}`,
        p.podSelector && `podSelector ${showLabels(p.podSelector)}`,
      ]
        .filter(Boolean)
        .join(' + ');

/** Whether a rule's ports let this protocol and port through (no ports: every port). */
function allowsPort(rule: NetworkPolicyRule, protocol: string, port: number, name?: string): boolean {
  if (!rule.ports || rule.ports.length === 0) return true;
  return rule.ports.some(
    (p) =>
      (p.protocol ?? 'TCP') === protocol &&
      (p.port === undefined ||
        p.port === port ||
        (name !== undefined && p.port === name) ||
        (typeof p.port === 'number' && p.endPort !== undefined && p.port <= port && port <= p.endPort)),
  );
}

/**
 * The port the service's pods must reach Redis on: from REDIS_URL (default 6379) and, when its host is a
 * Service of the namespace, that Service's targetPort resolved to the Redis pods' container port
 * (NetworkPolicies see the pod's port, after the Service's translation). REDIS_URL from a Secret outside
 * the manifests (production): the default port.
 */
function redisTarget(
  docs: Doc[],
  namespace: string,
  env: Record<string, string>,
): { port: number; name?: string; pods?: Workload[]; why: string } {
  const text = env.REDIS_URL;
  if (text === undefined)
    return { port: DEFAULT_REDIS_PORT, why: 'REDIS_URL not in the manifests: the default Redis port' };
  const url = new URL(text);
  const port = url.port ? Number(url.port) : DEFAULT_REDIS_PORT;
  const host = url.hostname.split('.')[0];
  const service = ofKind(docs, 'Service').find((s) => ns(s) === namespace && s.metadata.name === host);
  if (!service) return { port, why: `REDIS_URL ${url.host}` };
  const sp = spec<{
    selector?: Labels;
    ports?: { name?: string; port: number; targetPort?: string | number }[];
  }>(service);
  const pods = ofKind<Workload>(docs, 'Deployment').filter(
    (w) => ns(w) === namespace && sp.selector && selects({ matchLabels: sp.selector }, podLabels(w)),
  );
  const servicePort = (sp.ports ?? []).find((p) => p.port === port);
  const target = servicePort?.targetPort ?? port;
  const containerPort = pods
    .flatMap((w) => w.spec.template.spec.containers.flatMap((c) => c.ports ?? []))
    .find((p) => p.name === target || p.containerPort === target);
  return {
    port: containerPort?.containerPort ?? (typeof target === 'number' ? target : port),
    name: containerPort?.name,
    pods,
    why: `REDIS_URL ${url.host} -> Service ${host} port ${port} -> pod port ${containerPort?.containerPort ?? target}`,
  };
}

/**
 * The service's egress, as the union of every NetworkPolicy that selects its pods: cluster DNS (UDP and
 * TCP 53 to kube-dns in kube-system, with exactly those selectors), Redis on the port REDIS_URL names, and
 * TCP 443 to the public internet, IPv4 and IPv6, private and link-local ranges excepted. And on every
 * NetworkPolicy, no peer of a cross-namespace rule (one with a namespaceSelector) may carry a label of this
 * namespace's own pods: that is what kustomize's `labels` with `includeSelectors: true` writes into peer
 * selectors, and such a peer matches no pod in the other namespace (DNS or scrapes blocked).
 */
export function checkNetworkPolicies(docs: Doc[]): string[] {
  const problems: string[] = [];
  const policies = ofKind(docs, 'NetworkPolicy');
  for (const w of ofKind<Workload>(docs, 'Deployment')) {
    const c = w.spec.template.spec.containers.find(isPriceService);
    if (!c) continue;
    const p = (msg: string) => problems.push(`${ref(w)}: egress: ${msg}`);
    const mine = policies
      .filter((np) => ns(np) === ns(w) && selects(spec<NetworkPolicySpec>(np).podSelector, podLabels(w)))
      .map((np) => spec<NetworkPolicySpec>(np))
      .filter((sp) => (sp.policyTypes ?? []).includes('Egress') || sp.egress !== undefined);
    if (mine.length === 0) {
      p('no NetworkPolicy restricts it (every destination is open)');
      continue;
    }
    const rules = mine.flatMap((sp) => sp.egress ?? []);

    const dnsRules = rules.filter((r) =>
      (r.to ?? []).some(
        (peer) =>
          exactly(peer.namespaceSelector, DNS_PEER.namespaceSelector.matchLabels) &&
          exactly(peer.podSelector, DNS_PEER.podSelector.matchLabels),
      ),
    );
    const missing = ['UDP', 'TCP'].filter((proto) => !dnsRules.some((r) => allowsPort(r, proto, 53)));
    if (missing.length > 0) {
      const seen = rules
        .filter((r) => r.to && (allowsPort(r, 'UDP', 53) || allowsPort(r, 'TCP', 53)))
        .flatMap((r) => r.to ?? [])
        .map(showPeer);
      p(
        `no rule allows DNS (${missing.join(' and ')} 53) to namespaceSelector ${showLabels(DNS_PEER.namespaceSelector)} + podSelector exactly ${showLabels(DNS_PEER.podSelector)}; port-53 peers: ${seen.length ? seen.join('; ') : 'none'}`,
      );
    }

    const { env } = containerEnv(docs, ns(w), c);
    let redis;
    try {
      redis = redisTarget(docs, ns(w), env);
    } catch (error) {
      p(`REDIS_URL is not a URL: ${(error as Error).message}`);
    }
    if (redis) {
      const target = redis;
      const reaches = (peer: NetworkPolicyPeer) =>
        !!peer.ipBlock ||
        (!peer.namespaceSelector && (target.pods ?? []).some((r) => selects(peer.podSelector, podLabels(r))));
      if (
        !rules.some(
          (r) => allowsPort(r, 'TCP', target.port, target.name) && (r.to === undefined || r.to.some(reaches)),
        )
      )
        p(`no rule allows TCP ${target.port} to Redis (${target.why})`);
    }

    for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
      if (!env[name]) continue;
      let port: number;
      try {
        const url = new URL(env[name] as string);
        port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      } catch {
        continue; // not a URL: the exporter reports it
      }
      if (!rules.some((r) => allowsPort(r, 'TCP', port)))
        p(`${name} is set but no rule allows TCP ${port}: every span is dropped (components/otlp-egress)`);
    }

    const https = rules.filter((r) => allowsPort(r, 'TCP', EXCHANGE_PORT));
    const open = https.some((r) => r.to === undefined || r.to.length === 0);
    const blocks = https.flatMap((r) => r.to ?? []).flatMap((peer) => (peer.ipBlock ? [peer.ipBlock] : []));
    for (const [family, all, closed] of [
      ['IPv4', '0.0.0.0/0', PRIVATE_V4],
      ['IPv6', '::/0', PRIVATE_V6],
    ] as const) {
      if (open) break;
      const block = blocks.find((b) => b.cidr === all);
      if (!block) {
        p(
          `TCP ${EXCHANGE_PORT} to the exchanges is not open over ${family}: add an ipBlock ${all} (except ${closed.join(', ')})`,
        );
        continue;
      }
      const left = closed.filter((cidr) => !(block.except ?? []).includes(cidr));
      if (left.length > 0) p(`the ${all} ipBlock for TCP ${EXCHANGE_PORT} must except ${left.join(', ')}`);
    }
  }

  for (const np of policies) {
    const own = new Set(
      ofKind<Workload>(docs, 'Deployment')
        .filter((w) => ns(w) === ns(np))
        .flatMap((w) => Object.entries(podLabels(w)).map(([k, v]) => `${k}=${v}`)),
    );
    const sp = spec<NetworkPolicySpec>(np);
    for (const [direction, rules] of [
      ['ingress', sp.ingress ?? []],
      ['egress', sp.egress ?? []],
    ] as const)
      for (const rule of rules)
        for (const peer of (direction === 'ingress' ? rule.from : rule.to) ?? []) {
          if (!peer.namespaceSelector) continue;
          const carried = [
            ...Object.entries(peer.podSelector?.matchLabels ?? {}),
            ...Object.entries(peer.namespaceSelector.matchLabels ?? {}),
          ]
            .map(([k, v]) => `${k}=${v}`)
            .filter((label) => own.has(label));
          if (carried.length > 0) {
            const where =
              peer.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name'] ??
              showLabels(peer.namespaceSelector);
            problems.push(
              `${ref(np)}: ${direction} peer in namespace ${where} (${showPeer(peer)}) carries this app's own label ${carried.join(', ')}: it matches no pod there (kustomize labels with includeSelectors: true?)`,
            );
          }
        }
  }
  return problems;
}

export function checkAll(docs: Doc[], contract: ServiceContract): string[] {
  return [
    ...checkApiVersions(docs),
    ...checkSecurity(docs),
    ...checkProbes(docs, contract),
    ...checkServiceEnv(docs, contract),
    ...checkShutdown(docs, contract),
    ...checkSelection(docs),
    ...checkWorkers(docs, contract),
    ...checkNetworkPolicies(docs),
  ];
}
