// The gateway process (loaded by main.ts once the Node.js version is checked): configuration from
// the environment, the gateway, and signal handling.
// Exit codes: 0 after a clean shutdown, 1 for invalid configuration or a failed start.
import { loadConfig } from './config.ts';
import { startGateway } from './gateway.ts';
import { createLogger } from './observability/logger.ts';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;

async function main(): Promise<void> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(`triton-gateway: ${loaded.message}\n`);
    process.exit(EXIT_FAILURE);
  }
  const config = loaded.config;
  const logger = createLogger(config.LOG_LEVEL);
  if (config.TRITON_GRPC_URL === undefined) {
    logger.info({ backend: 'embedded', modelRepository: config.MODEL_REPOSITORY, port: config.PORT }, 'triton-gateway starting: embedded ONNX Runtime backend (TRITON_GRPC_URL not set)');
  } else {
    logger.info({ backend: 'triton', tritonGrpcUrl: config.TRITON_GRPC_URL, port: config.PORT }, 'triton-gateway starting: Triton backend over gRPC');
  }
  const gateway = await startGateway(config, { logger });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal while draining; still waiting for the grace period');
      return;
    }
    void gateway.shutdown(signal).then(
      () => process.exit(EXIT_OK),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  process.stderr.write(`triton-gateway: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(EXIT_FAILURE);
});
