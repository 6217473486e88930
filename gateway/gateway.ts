// Wires the parts into one running gateway and takes it down again in the right order: readiness
// false and no new requests first, then in-flight work drains (bounded by the grace period), then the
// link to Triton closes. main.ts adds signals and the process exit; tests use this directly.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Backend } from './backends/backend.ts';
import { TritonBackend } from './backends/triton/triton-backend.ts';
import { DirectDispatcher } from './batching/infer-dispatcher.ts';
import type { InferDispatcher } from './batching/infer-dispatcher.ts';
import { MicroBatcher } from './batching/micro-batcher.ts';
import type { GatewayConfig } from './config.ts';
import { createApp } from './http/app.ts';
import { BodyParsePool } from './http/body-parse-pool.ts';
import { DrainGate } from './http/drain-gate.ts';
import { GracefulStop } from './http/graceful-stop.ts';
import { PARSE_HEAP_MB } from './http/infer-body.ts';
import { ModelCatalog } from './models/model-catalog.ts';
import { ReadinessMonitor } from './models/readiness-monitor.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import type { GatewayMetrics } from './observability/metrics.ts';

/** Longer than common load-balancer idle timeouts, so the balancer (not us) closes idle connections. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** The headers timeout is enforced at most this late. */
const MAX_CONNECTIONS_CHECK_MS = 1000;

export interface RunningGateway {
  readonly server: Server;
  readonly port: number;
  readonly backend: Backend;
  readonly monitor: ReadinessMonitor;
  readonly metrics: GatewayMetrics;
  /** Drains and stops; safe to call twice (the second call returns the first's promise). */
  shutdown(reason: string): Promise<{ readonly drained: boolean }>;
}

export interface GatewayDependencies {
  readonly logger: Logger;
  readonly metrics?: GatewayMetrics;
}

/** Triton over gRPC when TRITON_GRPC_URL is set; otherwise MODEL_REPOSITORY served in-process. */
async function createBackend(config: GatewayConfig, logger: Logger, metrics: GatewayMetrics): Promise<Backend> {
  if (config.TRITON_GRPC_URL !== undefined) {
    return new TritonBackend({
      address: config.TRITON_GRPC_URL,
      keepaliveMs: config.GRPC_KEEPALIVE_MS,
      breaker: {
        errorThresholdPercentage: config.BREAKER_ERROR_THRESHOLD_PERCENT,
        volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
        rollingWindowMs: config.BREAKER_ROLLING_WINDOW_MS,
        resetTimeoutMs: config.BREAKER_RESET_TIMEOUT_MS,
      },
      logger,
      metrics,
    });
  }
  // Loaded only when used: onnxruntime's native library costs tens of MB a Triton-fronting gateway never needs.
  const { EmbeddedBackend } = await import('./backends/embedded/embedded-backend.ts');
  const embedded = new EmbeddedBackend({
    repository: config.MODEL_REPOSITORY,
    pollIntervalMs: config.MODEL_POLL_INTERVAL_MS,
    logger,
    metrics,
    intraOpNumThreads: config.ORT_INTRA_OP_THREADS,
    maxRows: config.EMBEDDED_MAX_ROWS,
    maxOutputBytes: config.EMBEDDED_MAX_OUTPUT_BYTES,
  });
  await embedded.start();
  return embedded;
}

export async function startGateway(config: GatewayConfig, dependencies: GatewayDependencies): Promise<RunningGateway> {
  const { logger } = dependencies;
  const metrics = dependencies.metrics ?? createMetrics();
  const backend = await createBackend(config, logger, metrics);
  const catalog = new ModelCatalog({ backend, controlTimeoutMs: config.TRITON_CONTROL_TIMEOUT_MS, loadTimeoutMs: config.REQUEST_TIMEOUT_MS });
  const monitor = new ReadinessMonitor({
    backend,
    catalog,
    intervalMs: config.READINESS_POLL_INTERVAL_MS,
    callTimeoutMs: config.TRITON_CONTROL_TIMEOUT_MS,
    servedModels: config.SERVED_MODELS,
    logger: logger.child({ component: 'readiness' }),
  });
  const gate = new DrainGate();
  metrics.countInFlightWith(() => gate.inFlight);
  const dispatcher: InferDispatcher =
    config.BATCHING === 'on'
      ? new MicroBatcher({
          backend,
          windowMs: config.BATCH_WINDOW_MS,
          maxBatchRows: config.MAX_BATCH_ROWS,
          queueLimitRows: config.QUEUE_LIMIT_ROWS,
          maxInflightBatches: config.MAX_INFLIGHT_BATCHES,
          logger: logger.child({ component: 'batcher' }),
          metrics,
        })
      : new DirectDispatcher(backend);
  monitor.onChange(() => metrics.ready.set(monitor.report(gate.draining).ready ? 1 : 0));

  const parsePool = new BodyParsePool({ threads: config.PARSE_WORKERS, heapMb: PARSE_HEAP_MB });
  const app = createApp({ config, catalog, monitor, dispatcher, gate, logger, metrics, parsePool });
  const server = createServer(
    {
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // Node answers 408 and closes when the header block is not complete in time (nginx's
      // client_header_timeout); it checks on this interval, 30 s by default, far too coarse for 10 s.
      headersTimeout: config.HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(MAX_CONNECTIONS_CHECK_MS, Math.ceil(config.HEADERS_TIMEOUT_MS / 4)),
    },
    app,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  monitor.start();
  logger.info({ port, backend: backend.description, servedModels: config.SERVED_MODELS ?? 'all in the repository index' }, 'gateway listening');

  const stopper = new GracefulStop({ server, gate, logger, graceMs: config.SHUTDOWN_GRACE_MS, lameDuckMs: config.SHUTDOWN_LAME_DUCK_MS });
  let stopping: Promise<{ drained: boolean }> | undefined;
  const shutdown = (reason: string): Promise<{ drained: boolean }> => {
    stopping ??= (async () => {
      const { drained } = await stopper.stop(reason, () => dispatcher.close());
      await parsePool.close();
      monitor.stop();
      // Every request has been answered or cut off: runs still in progress (embedded: ONNX Runtime cannot
      // cancel them) have nobody waiting, so they are answered now; each worker ends once its run returns.
      await backend.close({ now: true });
      logger.info({ drained }, 'gateway stopped');
      return { drained };
    })();
    return stopping;
  };

  return { server, port, backend, monitor, metrics, shutdown };
}
