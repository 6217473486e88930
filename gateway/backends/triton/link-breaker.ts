// The circuit breaker around the link to Triton (opossum), with its state mirrored through one guarded
// transition function so every change is checked, logged and counted. Only link failures count against
// the breaker (see grpc-status-map.ts); a request Triton rejects as invalid says nothing about its health.
import CircuitBreaker from 'opossum';
import { GatewayError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { BREAKER_STATE_VALUE } from '../../observability/metrics.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import type { LinkState } from '../backend.ts';
import { isLinkFailure, provesNothing } from './triton-rpc-error.ts';

export interface BreakerSettings {
  readonly errorThresholdPercentage: number;
  readonly volumeThreshold: number;
  readonly rollingWindowMs: number;
  readonly resetTimeoutMs: number;
}

export interface LinkBreakerOptions extends BreakerSettings {
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
}

/** Opossum needs an integral number of buckets in its rolling window; ten is its own default. */
const ROLLING_BUCKETS = 10;
const MS_PER_SECOND = 1000;

const ALLOWED_FROM: Readonly<Record<LinkState, readonly LinkState[]>> = {
  open: ['closed', 'half-open'],
  'half-open': ['open'],
  closed: ['half-open', 'open'],
};

type Thunk = () => Promise<unknown>;

export class LinkBreaker {
  readonly #breaker: CircuitBreaker<[Thunk], unknown>;
  readonly #logger: Logger;
  readonly #metrics: GatewayMetrics;
  readonly #resetTimeoutMs: number;
  #state: LinkState = 'closed';
  #openedAt = 0;

  constructor(options: LinkBreakerOptions) {
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#resetTimeoutMs = options.resetTimeoutMs;
    this.#breaker = new CircuitBreaker<[Thunk], unknown>((thunk: Thunk) => thunk(), {
      // Deadlines are enforced by gRPC itself, which also cancels the call; opossum's timeout would only
      // stop waiting while the work went on.
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      rollingCountTimeout: options.rollingWindowMs,
      rollingCountBuckets: ROLLING_BUCKETS,
      resetTimeout: options.resetTimeoutMs,
      // true = "not a failure": request errors (INVALID_ARGUMENT, NOT_FOUND...), client cancellations and
      // deadlines that are not the link's; but a half-open probe that ended so proved nothing (Triton never
      // answered it), so it must not close the breaker.
      errorFilter: (error: unknown) => !isLinkFailure(error) && !(this.#state === 'half-open' && provesNothing(error)),
      // Latency percentiles and snapshots cost a sort per bucket; nothing here reads them.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.#breaker.on('open', () => this.#transition('open'));
    this.#breaker.on('halfOpen', () => this.#transition('half-open'));
    this.#breaker.on('close', () => this.#transition('closed'));
    this.#metrics.breakerState.set(BREAKER_STATE_VALUE.closed);
  }

  get state(): LinkState {
    return this.#state;
  }

  /** Runs `work` unless the breaker is open, in which case it fails at once with CIRCUIT_OPEN. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return (await this.#breaker.fire(work)) as T;
    } catch (error) {
      if (isOpenBreakerRejection(error)) {
        this.#metrics.breakerRejections.inc();
        throw new GatewayError('CIRCUIT_OPEN', 'circuit breaker to Triton is open; request not sent', {
          retryAfterSeconds: this.retryAfterSeconds(),
        });
      }
      throw error;
    }
  }

  retryAfterSeconds(): number {
    if (this.#state !== 'open') return 1;
    const remainingMs = this.#openedAt + this.#resetTimeoutMs - Date.now();
    return Math.max(1, Math.ceil(remainingMs / MS_PER_SECOND));
  }

  /** Stops the breaker's reset timer; safe to call twice. */
  shutdown(): void {
    this.#breaker.shutdown();
  }

  #transition(to: LinkState): void {
    const from = this.#state;
    if (from === to) return;
    if (!ALLOWED_FROM[to].includes(from)) {
      this.#logger.error({ from, to }, 'illegal breaker transition refused');
      return;
    }
    this.#state = to;
    switch (to) {
      case 'open':
        this.#openedAt = Date.now();
        this.#logger.warn({ from, to, retryInMs: this.#resetTimeoutMs }, 'breaker to Triton opened');
        break;
      case 'half-open':
        this.#logger.info({ from, to }, 'breaker to Triton half-open: next call probes');
        break;
      case 'closed':
        this.#logger.info({ from, to }, 'breaker to Triton closed');
        break;
      default: {
        const unreachable: never = to;
        throw new Error(`unknown breaker state ${String(unreachable)}`);
      }
    }
    this.#metrics.breakerState.set(BREAKER_STATE_VALUE[to]);
    this.#metrics.breakerTransitions.inc({ to });
  }
}

function isOpenBreakerRejection(error: unknown): boolean {
  return error instanceof Error && (error as Error & { code?: unknown }).code === 'EOPENBREAKER';
}
