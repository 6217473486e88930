// Starts a real Triton Inference Server for the integration tests. One seam, TritonLauncher: by default
// the pip-installed tritonserver as a child process (no Docker, no GPU); with TRITON_TEST_IMAGE set, that
// image started through testcontainers (podman or Docker), e.g. the project's CPU Triton image
// localhost/triton-cpu:2.51.0 (containers/build-images.sh). Both serve the same twin repositories.
// TRITON_LOG_VERBOSE=N adds --log-verbose=N (every request is then logged, shown when a test fails).
import { ContainerTritonLauncher } from './container-triton-launcher.ts';
import { LocalTritonLauncher } from './local-triton-launcher.ts';
import type { TritonHttpAnswer } from './triton-http.ts';

export type ModelControlMode = 'poll' | 'explicit' | 'none';

export interface TritonServerOptions {
  /** Model repository directory (e.g. a twin from createTwinRepository()). */
  readonly repository: string;
  readonly modelControl: ModelControlMode;
  /** More tritonserver flags, e.g. ['--exit-on-error=false'] for a repository with a broken model. */
  readonly extraArgs?: readonly string[];
  /** explicit mode: models loaded at start (--load-model). */
  readonly loadModels?: readonly string[];
}

export interface TritonServerHandle {
  /** "127.0.0.1:PORT", for the gateway's TRITON_GRPC_URL. */
  readonly grpcAddress: string;
  /** Triton's own HTTP endpoint. Prefer request(): a keep-alive fetch() here delays stop() by up to 5 s. */
  readonly httpUrl: string;
  /** A request to Triton's own HTTP API (readiness, metadata, repository index...), on a connection closed after it. */
  request(method: string, path: string, body?: unknown): Promise<TritonHttpAnswer>;
  /** Everything the server wrote to stdout and stderr so far, across restarts. */
  log(): string;
  /** Resolves when GET /v2/health/ready is 200 (strict readiness: every loaded model READY). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** SIGTERM, wait for the exit (Triton unloads its models first), clean up; safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL, like a crash; resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that hangs without closing its connections. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops the server if it runs and starts it again on the same ports and repository; resolves when live. */
  restart(): Promise<void>;
}

export interface TritonLauncher {
  readonly description: string;
  /** Resolves when the server is live (its endpoints answer); models may still be loading. */
  launch(options: TritonServerOptions): Promise<TritonServerHandle>;
}

export function tritonLauncher(): TritonLauncher {
  const image = process.env['TRITON_TEST_IMAGE'];
  return image !== undefined && image !== '' ? new ContainerTritonLauncher({ image }) : new LocalTritonLauncher();
}

export function startTritonServer(options: TritonServerOptions): Promise<TritonServerHandle> {
  return tritonLauncher().launch(options);
}
