// The one budget of request bytes being read and parsed at once, across all requests. A body takes its
// bytes as they arrive (a declared Content-Length is only checked to fit when reading starts); what does
// not fit is refused before more is read, so a burst of large bodies cannot exhaust the capped heap or keep
// the parser busy for seconds. Each request holds a lease, released (once) when its parse is over.

export class ParseBudget {
  readonly limitBytes: number;
  #heldBytes = 0;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  get heldBytes(): number {
    return this.#heldBytes;
  }

  lease(): BudgetLease {
    return new BudgetLease(this);
  }

  /**
   * Takes `bytes` when they fit what is left, or when nobody else holds any (`ownBytes` are the taker's):
   * a budget smaller than BODY_LIMIT_BYTES then still lets one body through at a time instead of refusing
   * every large one.
   */
  take(bytes: number, ownBytes = 0): boolean {
    if (!this.fits(bytes, ownBytes)) return false;
    this.#heldBytes += bytes;
    return true;
  }

  /** Whether take(bytes, ownBytes) would succeed now; takes nothing. */
  fits(bytes: number, ownBytes = 0): boolean {
    return this.#heldBytes <= ownBytes || this.#heldBytes + bytes <= this.limitBytes;
  }

  give(bytes: number): void {
    this.#heldBytes -= bytes;
  }
}

/** One request's share of the budget. */
export class BudgetLease {
  readonly #budget: ParseBudget;
  #heldBytes = 0;
  #released = false;

  constructor(budget: ParseBudget) {
    this.#budget = budget;
  }

  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Whether `bytes` more would fit now; takes nothing. */
  fits(bytes: number): boolean {
    return !this.#released && this.#budget.fits(bytes, this.#heldBytes);
  }

  /** False (and nothing taken) when the bytes do not fit; a released lease takes nothing more. */
  take(bytes: number): boolean {
    if (this.#released || !this.#budget.take(bytes, this.#heldBytes)) return false;
    this.#heldBytes += bytes;
    return true;
  }

  /** Gives everything back; safe to call twice. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#budget.give(this.#heldBytes);
    this.#heldBytes = 0;
  }
}
