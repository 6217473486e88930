// The waiting members of one batch key, in arrival order, with the rows they hold and the one timer
// that will flush them. A FIFO with a moving head, compacted now and then, instead of Array.shift.
import type { InferRequest } from '../backends/backend.ts';
import type { BatchMember } from './batch-member.ts';

/**
 * Which requests may share a batch: same model, same version (a pinned one, or "latest" which the
 * backend resolves per batch), same inputs (names, datatypes, every dimension but the batch one, in
 * order), the same requested outputs, and the same row limit: after a swap to a version with another
 * max_batch_size, requests under the new limit must not join a queue sized for the old one.
 */
export function batchKey(request: InferRequest, maxRows: number): string {
  const inputs = request.inputs.map((input) => `${input.name}:${input.datatype}:${input.shape.slice(1).join('x')}`).join(',');
  return `${request.model}\u0000${request.version}\u0000${inputs}\u0000${request.outputs.join(',')}\u0000${maxRows}`;
}

/**
 * Why a batch left: a request found the link idle, a returning batch freed a slot, the queue held a
 * full batch, the oldest member waited the window, a member's deadline was near, or the gateway stops.
 */
export type FlushReason = 'link_idle' | 'slot_freed' | 'full' | 'window' | 'deadline' | 'shutdown';

export class BatchQueue {
  readonly key: string;
  readonly model: string;
  /** Most rows one batch of this queue may carry. */
  readonly maxRows: number;
  #members: BatchMember[] = [];
  #head = 0;
  #rows = 0;
  timer: NodeJS.Timeout | undefined;
  timerDueAt = Number.POSITIVE_INFINITY;

  constructor(key: string, model: string, maxRows: number) {
    this.key = key;
    this.model = model;
    this.maxRows = maxRows;
  }

  get rows(): number {
    return this.#rows;
  }

  get length(): number {
    return this.#members.length - this.#head;
  }

  get oldest(): BatchMember | undefined {
    return this.#members[this.#head];
  }

  push(member: BatchMember): void {
    this.#members.push(member);
    this.#rows += member.rows;
  }

  /** Earliest deadline among the waiting members. */
  earliestDeadline(): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = this.#head; i < this.#members.length; i++) earliest = Math.min(earliest, this.#members[i]?.deadline ?? earliest);
    return earliest;
  }

  /** Removes one member wherever it is (its client left, or its deadline passed). */
  remove(member: BatchMember): boolean {
    const index = this.#members.indexOf(member, this.#head);
    if (index < 0) return false;
    this.#members.splice(index, 1);
    this.#rows -= member.rows;
    return true;
  }

  /** Removes and returns the members whose deadline is at or before `now`. */
  takeExpired(now: number): BatchMember[] {
    const expired: BatchMember[] = [];
    for (let i = this.#head; i < this.#members.length; i++) {
      const member = this.#members[i];
      if (member !== undefined && member.deadline <= now) expired.push(member);
    }
    for (const member of expired) this.remove(member);
    return expired;
  }

  /** Takes members in arrival order while their rows fit in one batch (never splitting a request). */
  takeBatch(): BatchMember[] {
    const batch: BatchMember[] = [];
    let rows = 0;
    while (this.#head < this.#members.length) {
      const next = this.#members[this.#head];
      if (next === undefined || rows + next.rows > this.maxRows) break;
      batch.push(next);
      rows += next.rows;
      this.#head++;
    }
    this.#rows -= rows;
    if (this.#head > 64 && this.#head * 2 > this.#members.length) {
      this.#members = this.#members.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }

  clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = Number.POSITIVE_INFINITY;
  }
}
