// Cross-references in the rendered k8s/ manifests that no schema sees: ports, selectors, the shutdown
// budget, the gateway's settings, the link to the Triton sidecar. Each check takes an overlay's objects
// and returns its problems (empty = fine), so a test can show that each one fails on a broken copy.
import { configSchema, FINAL_ANSWER_WAIT_MS, loadConfig } from '../../../gateway/config.ts';
import type { GatewayConfig } from '../../../gateway/config.ts';
import type { ManifestObject } from './deploy-tools.ts';
import { allContainers, commandFlags, gatewayPod, labelsMatch, named, objectsOfKind, probesOf, quantityBytes, selectorMatches } from './manifest-model.ts';
import type {
  ConfigMap,
  Container,
  Deployment,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  PodSpec,
  SecurityContext,
  Service,
} from './manifest-model.ts';

/** Cancelled requests get this long for their 503 after the grace period (gateway/gateway.ts). */
export const FINAL_ANSWER_WAIT_SECONDS = FINAL_ANSWER_WAIT_MS / 1000;
/** tritonserver's defaults for flags the manifests may leave out (tritonserver --help, 2.51.0). */
export const TRITON_DEFAULTS = { httpPort: '8000', grpcPort: '8001', exitTimeoutSecs: '30' } as const;
export const GPU_RESOURCE = 'nvidia.com/gpu';
const LOOPBACK = '127.0.0.1';
/** Variables a gateway container may carry that are the runtime's, not the gateway's settings. */
const NON_GATEWAY_VARIABLES = new Set(['NODE_OPTIONS']);
const DEV_TCP = /\/dev\/tcp\/([^/\s]+)\/(\d+)/;

export type Check = (objects: readonly ManifestObject[]) => readonly string[];

/** The gateway's environment as the pod gets it: its ConfigMaps (envFrom) and literal env entries. */
export function gatewayEnvironment(objects: readonly ManifestObject[]): { readonly env: Readonly<Record<string, string>>; readonly problems: readonly string[] } {
  const { gateway } = gatewayPod(objects);
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const source of gateway.envFrom ?? []) {
    if (source.configMapRef === undefined) continue;
    const configMap = named<ConfigMap>(objects, 'ConfigMap', source.configMapRef.name);
    if (configMap === undefined) {
      if (source.configMapRef.optional !== true) problems.push(`gateway envFrom names ConfigMap ${source.configMapRef.name}, which is not rendered`);
      continue;
    }
    Object.assign(env, configMap.data ?? {});
  }
  for (const variable of gateway.env ?? []) if (variable.value !== undefined) env[variable.name] = variable.value;
  return { env, problems };
}

/** The gateway's settings, parsed by the gateway's own loadConfig (defaults filled in). */
export function gatewayConfig(objects: readonly ManifestObject[]): GatewayConfig {
  const loaded = loadConfig(gatewayEnvironment(objects).env);
  if (!loaded.ok) throw new Error(`the gateway would refuse its ConfigMap: ${loaded.message}`);
  return loaded.config;
}

/** Every variable is a setting gateway/config.ts knows, and loadConfig accepts the values. */
export const gatewayConfigProblems: Check = (objects) => {
  const { env, problems: referenceProblems } = gatewayEnvironment(objects);
  return [...referenceProblems, ...settingsProblems(env)];
};

/** Every variable of a gateway environment (k8s ConfigMap, compose `environment`) is a setting loadConfig knows and accepts. */
export function settingsProblems(env: Readonly<Record<string, string>>): readonly string[] {
  const problems: string[] = [];
  const known = new Set(Object.keys(configSchema.shape));
  for (const name of Object.keys(env)) {
    if (!known.has(name) && !NON_GATEWAY_VARIABLES.has(name)) problems.push(`${name} is not a gateway setting (gateway/config.ts configSchema)`);
  }
  const loaded = loadConfig(env);
  if (!loaded.ok) problems.push(loaded.message);
  return problems;
}

/** Probe ports, the Service's targetPort and the scrape annotation all name a port the gateway listens on. */
export const portProblems: Check = (objects) => {
  const { deployment, pod, gateway } = gatewayPod(objects);
  const problems: string[] = [];
  for (const container of allContainers(pod)) {
    for (const { kind, probe } of probesOf(container)) {
      const port = probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
      if (port !== undefined && !declaresPort(container, port)) problems.push(`${container.name} ${kind} uses port ${port}, which ${container.name} does not declare`);
    }
  }
  const config = loadConfig(gatewayEnvironment(objects).env);
  if (config.ok && !declaresPort(gateway, config.config.PORT)) problems.push(`the gateway listens on PORT ${config.config.PORT}, which its container does not declare`);
  for (const service of servicesOf(objects, deployment)) {
    for (const port of service.spec.ports) {
      const target = port.targetPort ?? port.port;
      if (!declaresPort(gateway, target)) problems.push(`Service ${service.metadata.name} port ${port.port} targets ${target}, which the gateway container does not declare`);
    }
  }
  const scrapePort = deployment.spec.template.metadata.annotations?.['prometheus.io/port'];
  if (scrapePort !== undefined && !declaresPort(gateway, Number(scrapePort))) problems.push(`prometheus.io/port ${scrapePort} is not a gateway container port`);
  return problems;
};

/** Selectors of the Deployment, Services, PDBs and spread constraints select the pod; the HPA scales it. */
export const selectorProblems: Check = (objects) => {
  const { deployment, pod } = gatewayPod(objects);
  const labels = deployment.spec.template.metadata.labels;
  const problems: string[] = [];
  if (!selectorMatches(deployment.spec.selector, labels)) problems.push(`Deployment ${deployment.metadata.name}'s selector does not match its pod template labels`);
  const services = objectsOfKind<Service>(objects, 'Service');
  if (services.length === 0) problems.push('no Service');
  for (const service of services) {
    if (!labelsMatch(service.spec.selector, labels)) problems.push(`Service ${service.metadata.name}'s selector does not select the gateway pods`);
  }
  const budgets = objectsOfKind<PodDisruptionBudget>(objects, 'PodDisruptionBudget');
  if (budgets.length === 0) problems.push('no PodDisruptionBudget');
  for (const budget of budgets) {
    if (!selectorMatches(budget.spec.selector, labels)) problems.push(`PodDisruptionBudget ${budget.metadata.name}'s selector does not select the gateway pods`);
  }
  for (const [index, constraint] of (pod.topologySpreadConstraints ?? []).entries()) {
    if (!selectorMatches(constraint.labelSelector, labels)) problems.push(`topologySpreadConstraints[${index}] does not select the gateway pods`);
  }
  const autoscalers = objectsOfKind<HorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
  if (autoscalers.length === 0) problems.push('no HorizontalPodAutoscaler');
  for (const hpa of autoscalers) {
    const target = hpa.spec.scaleTargetRef;
    if (target.kind !== 'Deployment' || target.apiVersion !== deployment.apiVersion || target.name !== deployment.metadata.name) {
      problems.push(`HorizontalPodAutoscaler ${hpa.metadata.name} scales ${target.apiVersion ?? '?'} ${target.kind} ${target.name}, not ${deployment.apiVersion} Deployment ${deployment.metadata.name}`);
    }
  }
  return problems;
};

/** The pod's grace period covers preStop, the gateway's drain and final answers, then Triton's exit. */
export const gracePeriodProblems: Check = (objects) => {
  const { pod, gateway, triton } = gatewayPod(objects);
  const preStop = gateway.lifecycle?.preStop;
  if (preStop !== undefined && preStop.sleep === undefined) return ['the gateway preStop is not a sleep action: its duration cannot be read'];
  const preStopSeconds = preStop?.sleep?.seconds ?? 0;
  const drainSeconds = gatewayConfig(objects).SHUTDOWN_GRACE_MS / 1000;
  const tritonExitSeconds = Number(commandFlags(triton).get('exit-timeout-secs') ?? TRITON_DEFAULTS.exitTimeoutSecs);
  const needed = preStopSeconds + drainSeconds + FINAL_ANSWER_WAIT_SECONDS + tritonExitSeconds;
  // 30 s is the API's default when the field is left out.
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  return grace > needed
    ? []
    : [`terminationGracePeriodSeconds ${grace} <= preStop ${preStopSeconds} + SHUTDOWN_GRACE_MS ${drainSeconds} s + ${FINAL_ANSWER_WAIT_SECONDS} + Triton --exit-timeout-secs ${tritonExitSeconds} = ${needed}`];
};

/** Triton is a native sidecar on localhost, and the gateway and the exec probes talk to its real ports. */
export const tritonSidecarProblems: Check = (objects) => {
  const { pod, triton } = gatewayPod(objects);
  const problems: string[] = [];
  if (!(pod.initContainers ?? []).includes(triton) || triton.restartPolicy !== 'Always') {
    problems.push('triton is not a native sidecar (an initContainer with restartPolicy: Always)');
  }
  // A `command` would replace the image's entrypoint (NVIDIA's checks CUDA driver compatibility).
  if (triton.command !== undefined || triton.args?.[0] !== 'tritonserver') {
    problems.push('triton sets command instead of starting tritonserver through args (the image entrypoint must run)');
  }
  const flags = commandFlags(triton);
  for (const flag of ['http-address', 'grpc-address', 'metrics-address']) {
    if (flags.get(flag) !== LOOPBACK) problems.push(`triton --${flag} is ${flags.get(flag) ?? '(unset: 0.0.0.0)'}, not ${LOOPBACK}`);
  }
  if ((triton.ports ?? []).length > 0) problems.push('triton declares container ports although it listens on localhost only');
  const url = gatewayConfig(objects).TRITON_GRPC_URL;
  const grpc = `${flags.get('grpc-address') ?? '0.0.0.0'}:${flags.get('grpc-port') ?? TRITON_DEFAULTS.grpcPort}`;
  if (url !== grpc) problems.push(`the gateway's TRITON_GRPC_URL is ${url ?? '(unset)'}, Triton listens for gRPC on ${grpc}`);
  const http = `${flags.get('http-address') ?? '0.0.0.0'}:${flags.get('http-port') ?? TRITON_DEFAULTS.httpPort}`;
  for (const { kind, probe } of probesOf(triton)) {
    const target = DEV_TCP.exec((probe.exec?.command ?? []).join(' '));
    if (target === null) problems.push(`triton ${kind} does not connect through /dev/tcp/HOST/PORT`);
    else if (`${target[1]}:${target[2]}` !== http) problems.push(`triton ${kind} connects to ${target[1]}:${target[2]}, Triton's HTTP endpoint is ${http}`);
  }
  if (triton.startupProbe === undefined || triton.livenessProbe === undefined) problems.push('triton lacks a startupProbe or a livenessProbe');
  return problems;
};

/** /dev/shm is memory-backed, the model repository read-only, every mount and claim resolves. */
export const volumeProblems: Check = (objects) => {
  const { pod, triton } = gatewayPod(objects);
  const problems: string[] = [];
  const volumes = new Map((pod.volumes ?? []).map((volume) => [volume.name, volume]));
  for (const container of allContainers(pod)) {
    for (const mount of container.volumeMounts ?? []) {
      if (!volumes.has(mount.name)) problems.push(`${container.name} mounts ${mount.name}, which is not a pod volume`);
    }
  }
  const shm = triton.volumeMounts?.find((mount) => mount.mountPath === '/dev/shm');
  if (shm === undefined || volumes.get(shm.name)?.emptyDir?.medium !== 'Memory') problems.push("triton's /dev/shm is not an emptyDir with medium: Memory");
  const models = triton.volumeMounts?.find((mount) => mount.mountPath === '/models');
  if (models?.readOnly !== true) problems.push('triton does not mount /models read-only');
  for (const volume of volumes.values()) {
    const claim = volume.persistentVolumeClaim?.claimName;
    if (claim !== undefined && named(objects, 'PersistentVolumeClaim', claim) === undefined) problems.push(`volume ${volume.name} claims ${claim}, which is not rendered`);
  }
  return problems;
};

/** Non-root, no privilege escalation, no capabilities; the gateway's root filesystem read-only; no API token. */
export const securityProblems: Check = (objects) => {
  const { pod, gateway, triton } = gatewayPod(objects);
  const problems: string[] = [];
  for (const container of [gateway, triton]) {
    const context = effectiveSecurityContext(pod, container);
    if (context.runAsNonRoot !== true) problems.push(`${container.name}: runAsNonRoot is not true`);
    if (context.allowPrivilegeEscalation !== false) problems.push(`${container.name}: allowPrivilegeEscalation is not false`);
    if (!(context.capabilities?.drop ?? []).includes('ALL')) problems.push(`${container.name}: capabilities do not drop ALL`);
    if (context.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${container.name}: seccompProfile is not RuntimeDefault`);
  }
  if (effectiveSecurityContext(pod, gateway).readOnlyRootFilesystem !== true) problems.push('gateway: readOnlyRootFilesystem is not true');
  if (pod.automountServiceAccountToken !== false) problems.push('the pod mounts a service account token');
  const account = pod.serviceAccountName;
  if (account === undefined || named(objects, 'ServiceAccount', account) === undefined) problems.push(`serviceAccountName ${account ?? '(unset)'} is not rendered`);
  return problems;
};

/** A stateless gateway: ClusterIP, no session affinity. */
export const serviceProblems: Check = (objects) => {
  const { deployment } = gatewayPod(objects);
  const problems: string[] = [];
  for (const service of servicesOf(objects, deployment)) {
    if (service.spec.sessionAffinity !== 'None') problems.push(`Service ${service.metadata.name}: sessionAffinity is ${service.spec.sessionAffinity ?? '(unset)'}, not None`);
    if ((service.spec.type ?? 'ClusterIP') !== 'ClusterIP') problems.push(`Service ${service.metadata.name}: type ${service.spec.type ?? ''}, not ClusterIP`);
  }
  return problems;
};

/** The gpu overlay gives Triton one GPU (request = limit) and tolerates GPU taints; the others ask for none. */
export function gpuProblems(objects: readonly ManifestObject[], expectGpu: boolean): readonly string[] {
  const { pod, triton } = gatewayPod(objects);
  const problems: string[] = [];
  const asking = allContainers(pod).filter((container) => gpuCount(container) !== undefined);
  const tolerates = (pod.tolerations ?? []).some((toleration) => toleration.key === GPU_RESOURCE);
  if (!expectGpu) {
    for (const container of asking) problems.push(`${container.name} asks for ${GPU_RESOURCE}`);
    if (tolerates) problems.push(`the pod tolerates the ${GPU_RESOURCE} taint`);
    return problems;
  }
  if (asking.length !== 1 || asking[0] !== triton) problems.push(`expected triton alone to ask for ${GPU_RESOURCE}, got [${asking.map((container) => container.name).join(', ')}]`);
  const limit = triton.resources?.limits?.[GPU_RESOURCE];
  if (limit === undefined || Number(limit) < 1) problems.push(`triton has no ${GPU_RESOURCE} limit`);
  const request = triton.resources?.requests?.[GPU_RESOURCE];
  if (request !== undefined && String(request) !== String(limit)) problems.push(`triton's ${GPU_RESOURCE} request ${request} differs from its limit ${limit ?? ''}`);
  if (!tolerates) problems.push(`the pod does not tolerate the ${GPU_RESOURCE} taint`);
  return problems;
}

/** The HPA's custom metrics are ones the adapter rules serve, and its container metrics name real containers. */
export function autoscalerProblems(objects: readonly ManifestObject[], adapterMetrics: readonly string[]): readonly string[] {
  const { pod } = gatewayPod(objects);
  const containers = new Set(allContainers(pod).map((container) => container.name));
  const problems: string[] = [];
  for (const hpa of objectsOfKind<HorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler')) {
    for (const metric of hpa.spec.metrics ?? []) {
      const custom = metric.pods?.metric.name;
      if (custom !== undefined && !adapterMetrics.includes(custom)) problems.push(`HPA metric ${custom} is not served by the adapter rules (they serve ${adapterMetrics.join(', ')})`);
      const container = metric.containerResource?.container;
      if (container !== undefined && !containers.has(container)) problems.push(`HPA ContainerResource names container ${container}, which the pod lacks`);
    }
  }
  return problems;
}

/** The gateway's memory limit holds V8's old space (the image's --max-old-space-size) and as much again. */
export function memoryProblems(objects: readonly ManifestObject[], oldSpaceMiB: number): readonly string[] {
  const { gateway } = gatewayPod(objects);
  const limit = gateway.resources?.limits?.['memory'];
  if (limit === undefined) return ['the gateway has no memory limit'];
  const needed = 2 * oldSpaceMiB * 2 ** 20;
  return quantityBytes(limit) >= needed ? [] : [`the gateway's memory limit ${limit} is below twice the V8 old space of ${oldSpaceMiB} MiB`];
}

function declaresPort(container: Container, port: number | string): boolean {
  return (container.ports ?? []).some((declared) => (typeof port === 'number' ? declared.containerPort === port : declared.name === port));
}

function servicesOf(objects: readonly ManifestObject[], deployment: Deployment): readonly Service[] {
  return objectsOfKind<Service>(objects, 'Service').filter((service) => labelsMatch(service.spec.selector, deployment.spec.template.metadata.labels));
}

function gpuCount(container: Container): string | number | undefined {
  return container.resources?.limits?.[GPU_RESOURCE] ?? container.resources?.requests?.[GPU_RESOURCE];
}

/** Container settings override the pod's; some fields exist on the container only. */
function effectiveSecurityContext(pod: PodSpec, container: Container): SecurityContext {
  return { ...pod.securityContext, ...container.securityContext };
}
