// The tritonserver flags every launcher passes, so the pip-installed server and a container image are
// started alike; each launcher adds only where the repository is and how the server is reached.
import type { TritonServerOptions } from './triton-server.ts';

/** The flags both launchers pass: how models are controlled, how the Python backend sizes its shared memory, how the server stops. */
export function sharedTritonArgs(options: TritonServerOptions): string[] {
  checkTritonOptions(options);
  const verbose = process.env['TRITON_LOG_VERBOSE'];
  return [
    `--model-control-mode=${options.modelControl}`,
    ...(options.modelControl === 'poll' ? ['--repository-poll-secs=1'] : []),
    '--backend-config=python,shm-default-byte-size=4194304',
    '--backend-config=python,shm-growth-byte-size=1048576',
    '--exit-timeout-secs=5',
    '--disable-auto-complete-config',
    ...(options.loadModels ?? []).map((model) => `--load-model=${model}`),
    ...(verbose === undefined || verbose === '' ? [] : [`--log-verbose=${verbose}`]),
    ...(options.extraArgs ?? []),
  ];
}

/** Refuses options that contradict each other, before anything is installed or started. */
export function checkTritonOptions(options: TritonServerOptions): void {
  if (options.loadModels !== undefined && options.modelControl !== 'explicit') {
    throw new Error(`loadModels needs modelControl 'explicit' (got '${options.modelControl}')`);
  }
}
