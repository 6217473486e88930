// Typed views of the rendered Kubernetes objects the k8s/ checks read: only the fields they use. The
// objects have passed strict schema validation before the checks read them, so the views are casts, not
// parsers; a missing object is an Error that names what was looked for.
import type { ManifestObject } from './deploy-tools.ts';

export type Labels = Readonly<Record<string, string>>;
export type ResourceList = Readonly<Record<string, string | number>>;

export interface Metadata {
  readonly name: string;
  readonly labels?: Labels;
  readonly annotations?: Labels;
}

export interface LabelSelector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: readonly unknown[];
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}

export interface Probe {
  readonly httpGet?: { readonly path?: string; readonly port: number | string };
  readonly tcpSocket?: { readonly port: number | string };
  readonly grpc?: { readonly port: number };
  readonly exec?: { readonly command?: readonly string[] };
  readonly periodSeconds?: number;
  readonly failureThreshold?: number;
  readonly timeoutSeconds?: number;
}

export interface SecurityContext {
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly readOnlyRootFilesystem?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly capabilities?: { readonly drop?: readonly string[]; readonly add?: readonly string[] };
  readonly seccompProfile?: { readonly type: string };
}

export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly restartPolicy?: string;
  readonly ports?: readonly ContainerPort[];
  readonly env?: readonly { readonly name: string; readonly value?: string }[];
  readonly envFrom?: readonly {
    readonly configMapRef?: { readonly name: string; readonly optional?: boolean };
    readonly secretRef?: { readonly name: string; readonly optional?: boolean };
  }[];
  readonly startupProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly lifecycle?: { readonly preStop?: { readonly sleep?: { readonly seconds: number }; readonly exec?: unknown; readonly httpGet?: unknown } };
  readonly resources?: { readonly requests?: ResourceList; readonly limits?: ResourceList };
  readonly securityContext?: SecurityContext;
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
}

export interface Volume {
  readonly name: string;
  readonly emptyDir?: { readonly medium?: string; readonly sizeLimit?: string };
  readonly persistentVolumeClaim?: { readonly claimName: string; readonly readOnly?: boolean };
}

export interface PodSpec {
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly terminationGracePeriodSeconds?: number;
  readonly securityContext?: SecurityContext;
  readonly initContainers?: readonly Container[];
  readonly containers: readonly Container[];
  readonly volumes?: readonly Volume[];
  readonly tolerations?: readonly { readonly key?: string; readonly operator?: string; readonly effect?: string }[];
  readonly topologySpreadConstraints?: readonly { readonly labelSelector?: LabelSelector }[];
}

export interface Deployment {
  readonly apiVersion: string;
  readonly kind: 'Deployment';
  readonly metadata: Metadata;
  readonly spec: { readonly selector: LabelSelector; readonly template: { readonly metadata: Metadata; readonly spec: PodSpec } };
}

export interface Service {
  readonly metadata: Metadata;
  readonly spec: {
    readonly type?: string;
    readonly sessionAffinity?: string;
    readonly selector?: Labels;
    readonly ports: readonly { readonly name?: string; readonly port: number; readonly targetPort?: number | string }[];
  };
}

export interface PodDisruptionBudget {
  readonly metadata: Metadata;
  readonly spec: { readonly selector?: LabelSelector };
}

export interface HorizontalPodAutoscaler {
  readonly metadata: Metadata;
  readonly spec: {
    readonly scaleTargetRef: { readonly apiVersion?: string; readonly kind: string; readonly name: string };
    readonly metrics?: readonly {
      readonly type: string;
      readonly pods?: { readonly metric: { readonly name: string } };
      readonly containerResource?: { readonly name: string; readonly container: string };
    }[];
  };
}

export interface ConfigMap {
  readonly metadata: Metadata;
  readonly data?: Labels;
}

export interface NamedObject {
  readonly kind: string;
  readonly metadata: Metadata;
}

export function objectsOfKind<T>(objects: readonly ManifestObject[], kind: string): readonly T[] {
  return objects.filter((object) => object['kind'] === kind) as unknown as readonly T[];
}

export function theOnly<T>(objects: readonly ManifestObject[], kind: string): T {
  const found = objectsOfKind<T>(objects, kind);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}, found ${found.length}`);
  return found[0] as T;
}

export function named<T>(objects: readonly ManifestObject[], kind: string, name: string): T | undefined {
  return objectsOfKind<NamedObject>(objects, kind).find((object) => object.metadata.name === name) as T | undefined;
}

/** The gateway's pod: its Deployment and the containers named gateway (main) and triton (init/sidecar). */
export interface GatewayPod {
  readonly deployment: Deployment;
  readonly pod: PodSpec;
  readonly gateway: Container;
  readonly triton: Container;
}

export function gatewayPod(objects: readonly ManifestObject[]): GatewayPod {
  const deployment = objectsOfKind<Deployment>(objects, 'Deployment').find((candidate) =>
    candidate.spec.template.spec.containers.some((container) => container.name === 'gateway'),
  );
  if (deployment === undefined) throw new Error('no Deployment has a container named gateway');
  const pod = deployment.spec.template.spec;
  const gateway = pod.containers.find((container) => container.name === 'gateway');
  const triton = [...(pod.initContainers ?? []), ...pod.containers].find((container) => container.name === 'triton');
  if (gateway === undefined || triton === undefined) throw new Error(`Deployment ${deployment.metadata.name} lacks the gateway or the triton container`);
  return { deployment, pod, gateway, triton };
}

/** Every container of the pod, init containers (sidecars) included. */
export function allContainers(pod: PodSpec): readonly Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

export function probesOf(container: Container): readonly { readonly kind: string; readonly probe: Probe }[] {
  const probes: { kind: string; probe: Probe }[] = [];
  for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
    const probe = container[kind];
    if (probe !== undefined) probes.push({ kind, probe });
  }
  return probes;
}

/** The command line's `--flag=value` and `--flag value` options (the last one wins). */
export function commandFlags(container: Container): ReadonlyMap<string, string> {
  const words = [...(container.command ?? []), ...(container.args ?? [])];
  const flags = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    if (!word.startsWith('--')) continue;
    const equals = word.indexOf('=');
    if (equals > 0) flags.set(word.slice(2, equals), word.slice(equals + 1));
    else {
      const next = words[i + 1];
      flags.set(word.slice(2), next !== undefined && !next.startsWith('--') ? next : '');
    }
  }
  return flags;
}

/** A Service's selector (a plain label map): non-empty and every entry on the pod's labels. */
export function labelsMatch(selector: Labels | undefined, labels: Labels | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels?.[key] === value);
}

/** A workload's or PDB's selector; matchExpressions are not read by these checks, so they do not match. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Labels | undefined): boolean {
  if (selector === undefined || (selector.matchExpressions?.length ?? 0) > 0) return false;
  return labelsMatch(selector.matchLabels, labels);
}

const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes memory quantity ("512Mi", "1G", 1024) in bytes. */
export function quantityBytes(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(quantity.trim());
  const multiplier = match === null ? undefined : (BINARY_SUFFIXES[match[2] ?? ''] ?? DECIMAL_SUFFIXES[match[2] ?? '']);
  if (match === null || multiplier === undefined) throw new Error(`not a memory quantity this check reads: ${quantity}`);
  return Number(match[1]) * multiplier;
}
