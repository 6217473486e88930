// Makes a failing integration test show what Triton said while it ran: registers vitest hooks that print
// the tritonserver log written during a failed test (the tail, when long) to stderr.
import { afterEach, beforeEach } from 'vitest';
import type { TritonServerHandle } from './triton-server.ts';

const MAX_LINES = 300;
const QUIET_LINES = 25;

/** Call at the top level (or in a describe) of a test file; `server` is read when a test ends. */
export function printTritonLogOnFailure(server: () => TritonServerHandle | undefined): void {
  let startedAt = 0;
  beforeEach(() => {
    startedAt = server()?.log().length ?? 0;
  });
  afterEach((context) => {
    // A test marked it.fails is 'fail' here when it fails as expected; that is no news.
    if (context.task.result?.state !== 'fail' || context.task.fails === true) return;
    const handle = server();
    if (handle === undefined) return;
    const log = handle.log();
    const during = startedAt <= log.length ? log.slice(startedAt) : log;
    const quiet = during.trim() === '';
    const lines = (quiet ? log : during).trimEnd().split('\n');
    const shown = lines.slice(quiet ? -QUIET_LINES : -MAX_LINES).join('\n');
    const what = quiet ? `nothing written during the test (TRITON_LOG_VERBOSE=1 logs every request); its last ${QUIET_LINES} lines` : `written during the test, last ${MAX_LINES} lines at most`;
    console.error(`\n--- tritonserver log, ${what} ("${context.task.name}" failed) ---\n${shown}\n--- end of tritonserver log ---\n`);
  });
}
