// Runs the gateway as a real child process (node gateway/main.ts), as Kubernetes or compose would, so
// signals, exit codes and the log can be tested.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './cache-lock.ts';
import { TEST_ENV } from './gateway-harness.ts';

export { REPO_ROOT };

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

/** The TypeScript entry (tests) or the compiled one that `npm start` runs (benchmarks). */
export type GatewayEntry = 'gateway/main.ts' | 'dist/gateway/main.js';

export function runGatewayMain(
  env: Readonly<Record<string, string>>,
  entry: GatewayEntry = 'gateway/main.ts',
): { child: ChildProcess; output: () => string; exited: Promise<number | string> } {
  const child = spawn(process.execPath, [entry], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { child, output: () => output, exited };
}

/**
 * Starts main.ts on a free port and waits for its "gateway listening" log line. Without a Triton address
 * it serves MODEL_REPOSITORY itself (the embedded backend). `base` is the settings under `env`: the
 * tests' quick timeouts by default, the product's defaults for benchmarks.
 */
export async function startGatewayProcess(
  tritonAddress: string | undefined,
  env: Readonly<Record<string, string>> = {},
  entry: GatewayEntry = 'gateway/main.ts',
  base: Readonly<Record<string, string>> = TEST_ENV,
): Promise<GatewayProcess> {
  const run = runGatewayMain({ ...base, LOG_LEVEL: 'info', ...(tritonAddress === undefined ? {} : { TRITON_GRPC_URL: tritonAddress }), ...env }, entry);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`gateway did not start:\n${run.output()}`));
    }, 15_000);
    const check = (): void => {
      const match = /"port":(\d+)[^\n]*"msg":"gateway listening"/.exec(run.output());
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    run.child.stdout?.on('data', check);
    void run.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening:\n${run.output()}`));
    });
  });
  return { ...run, url: `http://127.0.0.1:${port}` };
}
