// The progress bar on stderr (cli-progress), with the counts of answers that succeeded and failed.
// On a terminal it redraws in place; on a pipe or a log file it writes one line a second and a last
// line at the end, so CI logs show progress without a flood.
import cliProgress from 'cli-progress';

const NOT_TTY_INTERVAL_MS = 1000;
const FORMAT = 'infer {bar} {percentage}% | {value}/{total} | ok {ok} | failed {failed} | {duration_formatted} elapsed, eta {eta_formatted}';

export interface ProgressBar {
  update(done: number, okCount: number, failedCount: number): void;
  stop(): void;
}

function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as NodeJS.WritableStream & { isTTY?: boolean }).isTTY === true;
}

export function startProgressBar(total: number, stream: NodeJS.WritableStream): ProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      format: FORMAT,
      stream,
      noTTYOutput: true,
      notTTYSchedule: NOT_TTY_INTERVAL_MS,
      // Never take over SIGINT: Ctrl-C must still stop the run.
      gracefulExit: false,
      hideCursor: false,
      // On a pipe the last line is already written; "complete" would only add a blank line.
      clearOnComplete: !isTerminal(stream),
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { ok: 0, failed: 0 });
  let stopped = false;
  return {
    update(done, okCount, failedCount) {
      if (!stopped) bar.update(done, { ok: okCount, failed: failedCount });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
