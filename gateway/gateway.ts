// Wires the parts into one running gateway and takes it down again in the right order: readiness
// false and no new requests first, then in-flight work drains (bounded by the grace period), then the
// link to Triton closes. main.ts adds signals and the process exit; tests use this directly.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Backend } from './backends/backend.ts';
import { TritonBackend } from './backends/triton/triton-backend.ts';
import { DirectDispatcher } from './batching/direct-dispatcher.ts';
import type { InferDispatcher } from './batching/infer-dispatcher.ts';
import { MicroBatcher } from './batching/micro-batcher.ts';
import { FINAL_ANSWER_WAIT_MS } from './config.ts';
import type { GatewayConfig } from './config.ts';
import { createApp } from './http/app.ts';
import { DrainGate } from './http/drain-gate.ts';
import { readinessReport } from './http/readiness-report.ts';
import { ModelCatalog } from './models/model-catalog.ts';
import { ReadinessMonitor } from './models/readiness-monitor.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import type { GatewayMetrics } from './observability/metrics.ts';

/** Longer than common load-balancer idle timeouts, so the balancer (not us) closes idle connections. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

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
    logger: logger.child({ component: 'embedded' }),
    metrics,
    intraOpNumThreads: config.ORT_INTRA_OP_THREADS,
  });
  await embedded.start();
  return embedded;
}

export async function startGateway(config: GatewayConfig, dependencies: GatewayDependencies): Promise<RunningGateway> {
  const { logger } = dependencies;
  const metrics = dependencies.metrics ?? createMetrics();
  const backend = await createBackend(config, logger, metrics);
  const catalog = new ModelCatalog({ backend, controlTimeoutMs: config.TRITON_CONTROL_TIMEOUT_MS });
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
  monitor.onChange(() => metrics.ready.set(readinessReport(backend, monitor, gate).ready ? 1 : 0));

  const app = createApp({ config, backend, catalog, monitor, dispatcher, gate, logger, metrics });
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, app);
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

  let stopping: Promise<{ drained: boolean }> | undefined;
  const shutdown = (reason: string): Promise<{ drained: boolean }> => {
    stopping ??= (async () => {
      logger.info({ reason, inFlight: gate.inFlight, graceMs: config.SHUTDOWN_GRACE_MS }, 'shutting down: readiness false, draining');
      // Keep listening while draining: probes read 503 "draining" and late requests get an honest 503
      // with Connection: close instead of a refused connection.
      const drained = gate.drain().then(() => true);
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<boolean>((resolve) => {
        graceTimer = setTimeout(() => resolve(false), config.SHUTDOWN_GRACE_MS);
      });
      const finished = await Promise.race([drained, grace]);
      clearTimeout(graceTimer);
      if (!finished) {
        logger.warn({ inFlight: gate.inFlight }, 'grace period over; answering what is left with 503');
        gate.expire();
        await Promise.race([gate.drain(), delay(FINAL_ANSWER_WAIT_MS)]);
      }
      await dispatcher.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      monitor.stop();
      await backend.close();
      logger.info({ drained: finished }, 'gateway stopped');
      return { drained: finished };
    })();
    return stopping;
  };

  return { server, port, backend, monitor, metrics, shutdown };
}
