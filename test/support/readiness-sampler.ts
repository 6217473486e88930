// Samples the gateway's GET /ready in the background while a test swaps versions, so a test can assert
// that readiness never dropped and, when it did, print the story of what /ready said and when.
import { setTimeout as sleep } from 'node:timers/promises';

const SAMPLE_EVERY_MS = 25;

export interface ReadinessSample {
  readonly atMs: number;
  readonly status: number;
  readonly reasons: string;
  /** Whatever else the caller checked right after (e.g. Triton's own readiness), for the story. */
  readonly note: string;
}

export interface ReadinessSampler {
  readonly samples: ReadinessSample[];
  stop(): Promise<void>;
}

/** GET `readyUrl` every 25 ms until stopped; `alsoCheck` adds a note to each sample. */
export function sampleReadiness(readyUrl: string, alsoCheck?: () => Promise<string>): ReadinessSampler {
  const samples: ReadinessSample[] = [];
  const started = Date.now();
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const atMs = Date.now() - started;
      const response = await fetch(readyUrl);
      const body = (await response.json()) as { reasons?: string[] };
      const note = alsoCheck === undefined ? '' : await alsoCheck();
      samples.push({ atMs, status: response.status, reasons: (body.reasons ?? []).join('; '), note });
      await sleep(SAMPLE_EVERY_MS);
    }
  })();
  return {
    samples,
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
}

/** The samples that were not 200, one line each. */
export function notReady(samples: readonly ReadinessSample[]): string[] {
  return samples
    .filter((sample) => sample.status !== 200)
    .map((sample) => `${sample.atMs} ms: ${sample.status} (${sample.reasons})${sample.note === '' ? '' : `; ${sample.note}`}`);
}

/** Runs of equal answers collapsed: "0..1040 ms 200 x38; 1065..2300 ms 503 (...) x12". */
export function readinessStory(samples: readonly ReadinessSample[]): string {
  const runs: { from: number; to: number; key: string; count: number }[] = [];
  for (const sample of samples) {
    const key = `${sample.status}${sample.reasons === '' ? '' : ` (${sample.reasons})`}${sample.note === '' ? '' : `, ${sample.note}`}`;
    const last = runs.at(-1);
    if (last !== undefined && last.key === key) {
      last.to = sample.atMs;
      last.count += 1;
    } else runs.push({ from: sample.atMs, to: sample.atMs, key, count: 1 });
  }
  return runs.map((run) => `${run.from}..${run.to} ms ${run.key} x${run.count}`).join('\n');
}
