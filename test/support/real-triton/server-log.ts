// What both Triton launchers keep of a server: its log across starts (bounded, with the harness' own
// markers), errors that end with the log's tail, and the retry of a start that lost its port to another
// process ("address in use": free ports are only free until someone binds them).
import { setTimeout as sleep } from 'node:timers/promises';

const MAX_LOG_CHARS = 8 * 1024 * 1024;
const LOG_TAIL_LINES = 150;
const START_MARK = '===== [test harness] start #';
/** tritonserver's own words, and the container engines' (podman, Docker). */
export const ADDRESS_IN_USE = /already in use|address in use|port is already allocated/i;

export class ServerLog {
  #text = '';
  #starts = 0;

  get text(): string {
    return this.#text;
  }

  append(text: string): void {
    this.#text += text;
    if (this.#text.length > MAX_LOG_CHARS) this.#text = `[... older log dropped ...]\n${this.#text.slice(-MAX_LOG_CHARS / 2)}`;
  }

  /** A line of the test harness itself, set apart from the server's own. */
  note(text: string): void {
    this.append(`\n===== [test harness] ${text}\n`);
  }

  /** Marks a new start of the server in the log; returns its number (1 for the first). */
  markStart(what: string): number {
    this.#starts += 1;
    this.append(`\n${START_MARK}${this.#starts}: ${what}\n`);
    return this.#starts;
  }

  /** What the server wrote since its latest start. */
  sinceLastStart(): string {
    return this.#text.slice(this.#text.lastIndexOf(START_MARK));
  }

  failure(message: string): Error {
    const tail = this.#text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
    return new Error(`${message}\n--- last ${LOG_TAIL_LINES} lines of the tritonserver log ---\n${tail}`);
  }
}

export interface StartRetry {
  readonly attempts: number;
  /** Pause between attempts (0 when each attempt takes fresh ports). */
  readonly pauseMs: number;
}

/**
 * Runs `start` until it answers 'live'; an attempt that lost its port ('address in use') is retried, any
 * other answer is the reason it failed. Resolves 'live' or the last reason.
 */
export async function startRetryingPorts(start: () => Promise<string>, retry: StartRetry): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await start();
    if (outcome === 'live' || outcome !== 'address in use' || attempt >= retry.attempts) return outcome;
    if (retry.pauseMs > 0) await sleep(retry.pauseMs);
  }
}
