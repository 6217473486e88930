// Keep-alive clients that count what happens to every request while servers fail under them: N loops,
// each on its own socket of one node:http Agent (as a pooled client or a load balancer keeps them),
// sending digits requests one after another. Each request gets exactly one outcome, with the latency
// the client saw. A client pauses briefly after a refusal (a real client backs off) and stops for good
// after 503 SHUTTING_DOWN or a refused connection (it would go to another replica).
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendOnKeepAlive } from './keepalive-request.ts';

export type OutcomeKind =
  | '200'
  | '503 CIRCUIT_OPEN'
  | '503 BACKEND_UNAVAILABLE'
  | '503 MODEL_NOT_READY'
  | '503 SHUTTING_DOWN'
  | '504'
  | 'other status'
  /** The connection broke under a request that had been sent: no HTTP answer. */
  | 'socket error'
  /** The connection was refused: the request never reached a server (the process had exited). */
  | 'refused'
  /** No answer within the guard. */
  | 'no answer';

const OUTCOME_KINDS: readonly OutcomeKind[] = ['200', '503 CIRCUIT_OPEN', '503 BACKEND_UNAVAILABLE', '503 MODEL_NOT_READY', '503 SHUTTING_DOWN', '504', 'other status', 'socket error', 'refused', 'no answer'];

export interface CountedOutcome {
  readonly kind: OutcomeKind;
  readonly latencyMs: number;
  /** Status and error code, or the socket error, for anything but 200. */
  readonly detail: string;
  /** An HTTP answer that closes its connection (Connection: close). */
  readonly closes: boolean;
}

export interface CountedLoadOptions {
  readonly url: string;
  readonly path: string;
  readonly body: string;
  readonly clients: number;
  /** A request without an answer after this long is 'no answer'. */
  readonly guardMs: number;
  /** Whether a client stops after this outcome (default: after 503 SHUTTING_DOWN or a refused connection). */
  readonly stopsAfter?: (kind: OutcomeKind) => boolean;
}

export interface CountedLoad {
  readonly outcomes: readonly CountedOutcome[];
  /** Resolves when every client has stopped (by its stop rule, or after stop()). */
  readonly done: Promise<readonly CountedOutcome[]>;
  /** Answers or errors that came for a request already settled (must stay 0: one answer per request). */
  readonly duplicates: () => number;
  /** Asks every client to stop after its current request; resolves when all have. */
  stop(): Promise<readonly CountedOutcome[]>;
}

/** Pause of a client after an answer other than 200: a real client backs off. */
const BACKOFF_MS = 100;
const STOPPING_KINDS: ReadonlySet<OutcomeKind> = new Set(['503 SHUTTING_DOWN', 'refused']);

function kindOf(status: number, text: string): OutcomeKind {
  if (status === 200) return '200';
  if (status === 504) return '504';
  let code = '';
  try {
    code = String((JSON.parse(text) as { code?: unknown }).code ?? '');
  } catch {
    // not JSON: an 'other status'
  }
  const kind = `${status} ${code}`;
  return (OUTCOME_KINDS as readonly string[]).includes(kind) ? (kind as OutcomeKind) : 'other status';
}

export function startCountedLoad(options: CountedLoadOptions): CountedLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients, maxFreeSockets: options.clients });
  const outcomes: CountedOutcome[] = [];
  let duplicates = 0;
  let stopped = false;
  const stopsAfter = options.stopsAfter ?? ((kind: OutcomeKind) => STOPPING_KINDS.has(kind));

  const send = async (): Promise<OutcomeKind> => {
    const started = performance.now();
    const reply = await sendOnKeepAlive({ agent, ...options, onDuplicate: () => duplicates++ });
    const latencyMs = performance.now() - started;
    const outcome: CountedOutcome =
      reply.kind === 'answer'
        ? { kind: kindOf(reply.status, reply.text), latencyMs, detail: `${reply.status}: ${reply.text.slice(0, 200)}`, closes: reply.closes }
        : { kind: reply.kind, latencyMs, detail: reply.detail, closes: false };
    outcomes.push(outcome);
    return outcome.kind;
  };

  const client = async (): Promise<void> => {
    while (!stopped) {
      const kind = await send();
      if (stopsAfter(kind)) return;
      if (kind !== '200') await sleep(BACKOFF_MS);
    }
  };
  const done = Promise.all(Array.from({ length: options.clients }, client)).then(() => {
    agent.destroy();
    return outcomes;
  });
  return {
    outcomes,
    done,
    duplicates: () => duplicates,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}

/** Counts by kind (every kind listed, 0 included), one column per phase, as a small Markdown table. */
export function countTable(phases: Readonly<Record<string, readonly CountedOutcome[]>>): string {
  const columns = Object.entries(phases);
  const count = (outcomes: readonly CountedOutcome[], kind: OutcomeKind): number => outcomes.filter((outcome) => outcome.kind === kind).length;
  return [
    `| outcome | ${columns.map(([name]) => name).join(' | ')} |`,
    `|---|${columns.map(() => '---:|').join('')}`,
    ...OUTCOME_KINDS.map((kind) => `| ${kind} | ${columns.map(([, outcomes]) => count(outcomes, kind)).join(' | ')} |`),
    `| total | ${columns.map(([, outcomes]) => outcomes.length).join(' | ')} |`,
  ].join('\n');
}
