// Starts a gateway in-process against a given Triton address (or, with none, on the embedded ONNX Runtime
// backend serving env.MODEL_REPOSITORY), with settings small enough for tests.
import { loadConfig } from '../../gateway/config.ts';
import type { GatewayConfig } from '../../gateway/config.ts';
import { startGateway } from '../../gateway/gateway.ts';
import type { RunningGateway } from '../../gateway/gateway.ts';
import { createLogger } from '../../gateway/observability/logger.ts';

export interface TestGateway {
  readonly url: string;
  readonly gateway: RunningGateway;
  readonly config: GatewayConfig;
  close(): Promise<void>;
}

export const TEST_ENV: Readonly<Record<string, string>> = {
  PORT: '0',
  HOST: '127.0.0.1',
  READINESS_POLL_INTERVAL_MS: '100',
  BREAKER_VOLUME_THRESHOLD: '3',
  BREAKER_ERROR_THRESHOLD_PERCENT: '50',
  BREAKER_RESET_TIMEOUT_MS: '500',
  REQUEST_TIMEOUT_MS: '2000',
  TRITON_CONTROL_TIMEOUT_MS: '1000',
  SHUTDOWN_GRACE_MS: '3000',
  // Tests stop many gateways; the lame duck (for load balancers) would add its length to every stop.
  SHUTDOWN_LAME_DUCK_MS: '0',
  LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
};

/**
 * `tritonAddress` undefined = no TRITON_GRPC_URL: the embedded backend, serving `env.MODEL_REPOSITORY`
 * (default ./model_repository) and polling it every `env.MODEL_POLL_INTERVAL_MS`.
 */
export async function startTestGateway(tritonAddress: string | undefined, env: Readonly<Record<string, string>> = {}): Promise<TestGateway> {
  const loaded = loadConfig({ ...TEST_ENV, ...(tritonAddress === undefined ? {} : { TRITON_GRPC_URL: tritonAddress }), ...env });
  if (!loaded.ok) throw new Error(loaded.message);
  const gateway = await startGateway(loaded.config, { logger: createLogger(loaded.config.LOG_LEVEL) });
  await gateway.monitor.pollNow();
  return {
    url: `http://127.0.0.1:${gateway.port}`,
    gateway,
    config: loaded.config,
    close: async () => {
      await gateway.shutdown('test over');
    },
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes; for states reached by background work. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** Blocks this process's event loop (which an in-process gateway shares) for `ms`: a stall on demand. */
export function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else runs
  }
}
