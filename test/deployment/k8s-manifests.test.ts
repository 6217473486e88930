// k8s/ checked offline: every overlay renders with kustomize and passes the strict Kubernetes 1.33.0
// schemas (kubernetes-validate), and the cross-references no schema sees hold (manifest-checks.ts): ports,
// selectors, the shutdown budget, the gateway's settings, the Triton sidecar. Each check is also shown to
// fail on a broken copy, so none can pass by accident. No cluster needed.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderOverlay, validateManifests } from '../support/deploy-tools/deploy-tools.ts';
import type { ManifestObject, RenderedOverlay, ValidationReport } from '../support/deploy-tools/deploy-tools.ts';
import {
  autoscalerProblems,
  gatewayConfigProblems,
  gpuProblems,
  gracePeriodProblems,
  memoryProblems,
  portProblems,
  securityProblems,
  selectorProblems,
  serviceProblems,
  tritonSidecarProblems,
  volumeProblems,
} from '../support/deploy-tools/manifest-checks.ts';
import type { Check } from '../support/deploy-tools/manifest-checks.ts';
import { editedK8sCopy, withEdit } from '../support/deploy-tools/manifest-edits.ts';
import type { FieldEdit } from '../support/deploy-tools/manifest-edits.ts';
import { gatewayPod, probesOf } from '../support/deploy-tools/manifest-model.ts';
import { startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { REPO_ROOT } from '../support/gateway-process.ts';

/** The one Kubernetes version k8s/ targets; k8s/base/kustomization.yaml says the same. */
const KUBERNETES_VERSION = '1.33.0';
const K8S_DIR = join(REPO_ROOT, 'k8s');
const OVERLAYS = [
  { name: 'base', dir: 'base', gpu: false },
  { name: 'cpu', dir: 'overlays/cpu', gpu: false },
  { name: 'gpu', dir: 'overlays/gpu', gpu: true },
] as const;
type OverlayName = (typeof OVERLAYS)[number]['name'];
const EXPECTED_KINDS = ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'Service', 'ServiceAccount'];
const CHECKS: Readonly<Record<string, Check>> = {
  ports: portProblems,
  selectors: selectorProblems,
  'grace period': gracePeriodProblems,
  'gateway settings': gatewayConfigProblems,
  'triton sidecar': tritonSidecarProblems,
  volumes: volumeProblems,
  security: securityProblems,
  service: serviceProblems,
};

const rendered = new Map<OverlayName, RenderedOverlay>();
const reports = new Map<OverlayName, ValidationReport>();

function objectsOf(overlay: OverlayName): readonly ManifestObject[] {
  const found = rendered.get(overlay);
  if (found === undefined) throw new Error(`${overlay} was not rendered`);
  return found.objects;
}

beforeAll(async () => {
  // Each overlay is rendered and validated once for the whole file.
  await Promise.all(
    OVERLAYS.map(async (overlay) => {
      const result = await renderOverlay(join(K8S_DIR, overlay.dir));
      rendered.set(overlay.name, result);
      reports.set(overlay.name, await validateManifests(result.yaml, KUBERNETES_VERSION));
    }),
  );
});

describe(`k8s/ against the Kubernetes ${KUBERNETES_VERSION} schemas`, () => {
  it.each(OVERLAYS.map((overlay) => overlay.name))('%s renders, and every object passes strict validation', (overlay) => {
    const objects = objectsOf(overlay);
    expect([...new Set(objects.map((object) => String(object['kind'])))].sort()).toEqual(EXPECTED_KINDS);
    const report = reports.get(overlay);
    expect(report?.results).toHaveLength(objects.length);
    expect(report?.results.filter((result) => !result.ok)).toEqual([]);
    expect(new Set(report?.results.map((result) => result.schemaVersion))).toEqual(new Set(['1.33']));
  });

  it('the validator rejects a misspelt field (a copy of k8s/ with readinesProbe)', async () => {
    const copy = await editedK8sCopy(K8S_DIR, 'base/deployment.yaml', '          readinessProbe:', '          readinesProbe:');
    try {
      const broken = await renderOverlay(join(copy.dir, 'base'));
      const report = await validateManifests(broken.yaml, KUBERNETES_VERSION);
      const failures = report.results.filter((result) => !result.ok);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ kind: 'Deployment', name: 'triton-gateway', path: 'spec.template.spec.containers.0' });
      expect(failures[0]?.message).toContain("'readinesProbe' was unexpected");
    } finally {
      await copy.remove();
    }
  });

  it('the validator fails an object it has no schema for, instead of warning', async () => {
    const yaml = rendered.get('base')?.yaml.replace('apiVersion: policy/v1', 'apiVersion: policy/v1beta3') ?? '';
    expect(yaml).toContain('policy/v1beta3');
    const report = await validateManifests(yaml, KUBERNETES_VERSION);
    expect(report.results.filter((result) => !result.ok)).toMatchObject([{ kind: 'PodDisruptionBudget', schemaVersion: null }]);
  });

  it(`k8s/base/kustomization.yaml names Kubernetes ${KUBERNETES_VERSION}, the version validated here`, async () => {
    const kustomization = await readFile(join(K8S_DIR, 'base', 'kustomization.yaml'), 'utf8');
    expect(kustomization).toContain(`Kubernetes version: ${KUBERNETES_VERSION}`);
  });
});

describe('cross-references no schema sees', () => {
  for (const overlay of OVERLAYS) {
    for (const [name, check] of Object.entries(CHECKS)) {
      it(`${overlay.name}: ${name}`, () => {
        expect(check(objectsOf(overlay.name))).toEqual([]);
      });
    }

    it(`${overlay.name}: ${overlay.gpu ? 'Triton gets a GPU and tolerates GPU nodes' : 'nothing asks for a GPU'}`, () => {
      expect(gpuProblems(objectsOf(overlay.name), overlay.gpu)).toEqual([]);
    });

    it(`${overlay.name}: the HPA's metrics are served by k8s/prometheus-adapter-rules.yaml and name real containers`, async () => {
      expect(autoscalerProblems(objectsOf(overlay.name), await adapterMetricNames())).toEqual([]);
    });

    it(`${overlay.name}: the gateway's memory limit leaves room beyond the image's V8 heap cap (Dockerfile NODE_OPTIONS)`, async () => {
      expect(memoryProblems(objectsOf(overlay.name), await imageOldSpaceMiB())).toEqual([]);
    });
  }

  it('every overlay runs the Triton image that compose.yaml runs by default', async () => {
    const compose = await readFile(join(REPO_ROOT, 'compose.yaml'), 'utf8');
    const image = /\$\{TRITON_IMAGE:-([^}]+)\}/.exec(compose)?.[1];
    expect(image, 'compose.yaml has no ${TRITON_IMAGE:-default}').toBeDefined();
    for (const overlay of OVERLAYS) expect(gatewayPod(objectsOf(overlay.name)).triton.image).toBe(image);
  });
});

describe('each check fails on a broken copy', () => {
  const container = (kind: 'containers' | 'initContainers', ...rest: readonly (string | number)[]): readonly (string | number)[] => [
    'spec',
    'template',
    'spec',
    kind,
    0,
    ...rest,
  ];
  const set = (value: unknown) => (): unknown => value;
  const cases: readonly { readonly name: string; readonly check: Check; readonly edit: FieldEdit; readonly problem: string }[] = [
    { name: 'Service targetPort names no gateway port', check: portProblems, edit: { kind: 'Service', path: ['spec', 'ports', 0, 'targetPort'], update: set('htp') }, problem: 'targets htp' },
    { name: 'a probe uses an undeclared port', check: portProblems, edit: { kind: 'Deployment', path: container('containers', 'readinessProbe', 'httpGet', 'port'), update: set(8081) }, problem: 'readinessProbe uses port 8081' },
    { name: 'PORT is not the container port', check: portProblems, edit: { kind: 'ConfigMap', path: ['data', 'PORT'], update: set('9090') }, problem: 'listens on PORT 9090' },
    { name: 'the Service selects other pods', check: selectorProblems, edit: { kind: 'Service', path: ['spec', 'selector', 'app.kubernetes.io/component'], update: set('other') }, problem: 'Service triton-gateway' },
    { name: 'the PDB selects other pods', check: selectorProblems, edit: { kind: 'PodDisruptionBudget', path: ['spec', 'selector', 'matchLabels', 'app.kubernetes.io/name'], update: set('other') }, problem: 'PodDisruptionBudget' },
    { name: 'the HPA scales another Deployment', check: selectorProblems, edit: { kind: 'HorizontalPodAutoscaler', path: ['spec', 'scaleTargetRef', 'name'], update: set('gateway') }, problem: 'scales apps/v1 Deployment gateway' },
    { name: 'the grace period is exactly the sum (46 s)', check: gracePeriodProblems, edit: { kind: 'Deployment', path: ['spec', 'template', 'spec', 'terminationGracePeriodSeconds'], update: set(46) }, problem: '= 46' },
    { name: 'a longer SHUTDOWN_GRACE_MS', check: gracePeriodProblems, edit: { kind: 'ConfigMap', path: ['data', 'SHUTDOWN_GRACE_MS'], update: set('40000') }, problem: 'SHUTDOWN_GRACE_MS 40 s' },
    {
      name: "Triton's default --exit-timeout-secs (30)",
      check: gracePeriodProblems,
      edit: { kind: 'Deployment', path: container('initContainers', 'args'), update: (args) => (args as string[]).filter((arg) => !arg.startsWith('--exit-timeout-secs')) },
      problem: '--exit-timeout-secs 30',
    },
    { name: 'a setting loadConfig refuses', check: gatewayConfigProblems, edit: { kind: 'ConfigMap', path: ['data', 'LOG_LEVEL'], update: set('verbose') }, problem: 'LOG_LEVEL' },
    { name: 'Triton as an ordinary init container', check: tritonSidecarProblems, edit: { kind: 'Deployment', path: container('initContainers', 'restartPolicy'), update: set(undefined) }, problem: 'not a native sidecar' },
    { name: "Triton's entrypoint replaced by a command", check: tritonSidecarProblems, edit: { kind: 'Deployment', path: container('initContainers', 'command'), update: set(['tritonserver']) }, problem: 'sets command instead of' },
    { name: 'TRITON_GRPC_URL on another port', check: tritonSidecarProblems, edit: { kind: 'ConfigMap', path: ['data', 'TRITON_GRPC_URL'], update: set('127.0.0.1:8002') }, problem: 'Triton listens for gRPC on 127.0.0.1:8001' },
    {
      name: 'Triton listening on every address',
      check: tritonSidecarProblems,
      edit: { kind: 'Deployment', path: container('initContainers', 'args'), update: (args) => (args as string[]).map((arg) => arg.replace('--grpc-address=127.0.0.1', '--grpc-address=0.0.0.0')) },
      problem: 'triton --grpc-address is 0.0.0.0',
    },
    {
      name: "an exec probe on Triton's gRPC port",
      check: tritonSidecarProblems,
      edit: { kind: 'Deployment', path: container('initContainers', 'startupProbe', 'exec', 'command', 2), update: (script) => String(script).replace('127.0.0.1/8000', '127.0.0.1/8001') },
      problem: 'startupProbe connects to 127.0.0.1:8001',
    },
    { name: 'a disk-backed /dev/shm', check: volumeProblems, edit: { kind: 'Deployment', path: ['spec', 'template', 'spec', 'volumes', 1, 'emptyDir', 'medium'], update: set(undefined) }, problem: '/dev/shm' },
    { name: 'a writable gateway root filesystem', check: securityProblems, edit: { kind: 'Deployment', path: container('containers', 'securityContext', 'readOnlyRootFilesystem'), update: set(false) }, problem: 'gateway: readOnlyRootFilesystem' },
    { name: 'capabilities kept', check: securityProblems, edit: { kind: 'Deployment', path: container('containers', 'securityContext', 'capabilities', 'drop'), update: set([]) }, problem: 'gateway: capabilities do not drop ALL' },
    { name: 'session affinity', check: serviceProblems, edit: { kind: 'Service', path: ['spec', 'sessionAffinity'], update: set('ClientIP') }, problem: 'sessionAffinity is ClientIP' },
  ];

  it.each(cases)('$name', ({ check, edit, problem }) => {
    const base = objectsOf('base');
    expect(check(base)).toEqual([]);
    expect(check(withEdit(base, edit)).join('\n')).toContain(problem);
  });

  it('the grace period passes one second above the sum', () => {
    const edit: FieldEdit = { kind: 'Deployment', path: ['spec', 'template', 'spec', 'terminationGracePeriodSeconds'], update: set(47) };
    expect(gracePeriodProblems(withEdit(objectsOf('base'), edit))).toEqual([]);
  });

  it('a misspelt setting in k8s/base/gateway.env (SHUTDOWN_GRACE_MSS) is refused after rendering', async () => {
    const copy = await editedK8sCopy(K8S_DIR, 'base/gateway.env', 'SHUTDOWN_GRACE_MS=', 'SHUTDOWN_GRACE_MSS=');
    try {
      const broken = await renderOverlay(join(copy.dir, 'overlays', 'gpu'));
      expect(gatewayConfigProblems(broken.objects)).toEqual(['SHUTDOWN_GRACE_MSS is not a gateway setting (gateway/config.ts configSchema)']);
    } finally {
      await copy.remove();
    }
  });

  it('GPU expectations both ways', () => {
    expect(gpuProblems(objectsOf('cpu'), true).join('\n')).toContain('triton has no nvidia.com/gpu limit');
    expect(gpuProblems(objectsOf('gpu'), false)).toEqual(['triton asks for nvidia.com/gpu', 'the pod tolerates the nvidia.com/gpu taint']);
  });

  it('an HPA metric the adapter does not serve, a container the pod lacks, too little memory', async () => {
    const metrics = await adapterMetricNames();
    const renamed = withEdit(objectsOf('base'), { kind: 'HorizontalPodAutoscaler', path: ['spec', 'metrics', 0, 'pods', 'metric', 'name'], update: set('gateway_inflight') });
    expect(autoscalerProblems(renamed, metrics).join('\n')).toContain('HPA metric gateway_inflight is not served');
    const noContainer = withEdit(objectsOf('base'), { kind: 'HorizontalPodAutoscaler', path: ['spec', 'metrics', 1, 'containerResource', 'container'], update: set('gw') });
    expect(autoscalerProblems(noContainer, metrics).join('\n')).toContain('container gw');
    const small = withEdit(objectsOf('base'), { kind: 'Deployment', path: container('containers', 'resources', 'limits', 'memory'), update: set('384Mi') });
    expect(memoryProblems(small, 256)).toEqual(["the gateway's memory limit 384Mi is below twice the V8 old space of 256 MiB"]);
  });
});

describe("the gateway answers every httpGet probe's path", () => {
  let gateway: TestGateway | undefined;
  beforeAll(async () => {
    gateway = await startTestGateway(undefined, { MODEL_REPOSITORY: join(REPO_ROOT, 'model_repository'), MODEL_POLL_INTERVAL_MS: '0' });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('startup and liveness answer 200, readiness and the scrape path are routes (not 404)', async () => {
    const asked = new Map<string, string>();
    for (const overlay of OVERLAYS) {
      const { deployment, gateway: container } = gatewayPod(objectsOf(overlay.name));
      for (const { kind, probe } of probesOf(container)) if (probe.httpGet?.path !== undefined) asked.set(`${kind} ${probe.httpGet.path}`, probe.httpGet.path);
      const scrapePath = deployment.spec.template.metadata.annotations?.['prometheus.io/path'];
      if (scrapePath !== undefined) asked.set(`prometheus.io/path ${scrapePath}`, scrapePath);
    }
    expect([...asked.keys()].sort()).toEqual(['livenessProbe /health', 'prometheus.io/path /metrics', 'readinessProbe /ready', 'startupProbe /health']);
    for (const [what, path] of asked) {
      const response = await fetch(`${gateway?.url ?? ''}${path}`);
      await response.arrayBuffer();
      expect(response.status, what).not.toBe(404);
      if (!what.startsWith('readinessProbe')) expect(response.status, what).toBe(200);
    }
  });
  it('exports every series the Prometheus adapter rules turn into autoscaling metrics', async () => {
    const rules = parse(await readFile(join(K8S_DIR, 'prometheus-adapter-rules.yaml'), 'utf8')) as { rules?: readonly { seriesQuery?: string }[] };
    const series = (rules.rules ?? []).map((rule) => /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(rule.seriesQuery ?? '')?.[0] ?? '(no series)');
    expect(series.length).toBeGreaterThan(0);
    const scraped = await (await fetch(`${gateway?.url ?? ''}/metrics`)).text();
    for (const name of series) expect(scraped, name).toMatch(new RegExp(`^${name} \\d+$`, 'm'));
  });
});

describe("Triton's exec probes speak HTTP through bash's /dev/tcp", () => {
  let server: Server | undefined;
  let status = 200;
  const paths: string[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      paths.push(request.url ?? '');
      response.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it('each probe asks its path, passes on 200 and fails on 503 or when nothing listens', async () => {
    const port = (server?.address() as AddressInfo).port;
    const probes = new Map<string, readonly string[]>();
    for (const overlay of OVERLAYS) {
      for (const { kind, probe } of probesOf(gatewayPod(objectsOf(overlay.name)).triton)) {
        if (probe.exec?.command !== undefined) probes.set(`${kind} ${JSON.stringify(probe.exec.command)}`, probe.exec.command);
      }
    }
    expect(probes.size).toBe(2);
    for (const command of probes.values()) {
      // Same script, pointed at this test's server instead of Triton's port 8000.
      const script = command.map((word) => word.replace('/dev/tcp/127.0.0.1/8000', `/dev/tcp/127.0.0.1/${port}`));
      expect(script).not.toEqual(command);
      paths.length = 0;
      status = 200;
      expect(await exitCode(script)).toBe(0);
      expect(paths).toEqual([command.at(-1)]);
      status = 503;
      expect(await exitCode(script)).not.toBe(0);
      const closed = command.map((word) => word.replace('/dev/tcp/127.0.0.1/8000', '/dev/tcp/127.0.0.1/1'));
      expect(await exitCode(closed)).not.toBe(0);
    }
  });
});

function exitCode(command: readonly string[]): Promise<number> {
  const [file, ...args] = command;
  return new Promise((resolve) => {
    execFile(file ?? 'false', args, { timeout: 10_000 }, (error) => resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : -1));
  });
}

async function adapterMetricNames(): Promise<readonly string[]> {
  const rules = parse(await readFile(join(K8S_DIR, 'prometheus-adapter-rules.yaml'), 'utf8')) as { rules?: readonly { name?: { as?: string } }[] };
  return (rules.rules ?? []).flatMap((rule) => (rule.name?.as === undefined ? [] : [rule.name.as]));
}

/** The V8 old-space cap the gateway image sets (Dockerfile ENV NODE_OPTIONS=--max-old-space-size=N). */
async function imageOldSpaceMiB(): Promise<number> {
  const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const cap = /--max-old-space-size=(\d+)/.exec(dockerfile)?.[1];
  if (cap === undefined) throw new Error('the Dockerfile no longer caps V8 old space (--max-old-space-size): revisit the gateway memory limit in k8s/base/deployment.yaml');
  return Number(cap);
}
