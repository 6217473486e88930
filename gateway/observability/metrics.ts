// Every metric of the gateway, on one registry of its own (never prom-client's global one, so two
// gateways in one test process do not collide).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { eventLoopDelay } from './event-loop-delay.ts';

const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The outcome label of a backend call that succeeded; a failed one carries the gateway's error code. */
export const CALL_OK = 'OK';

/** The breaker state as a number, so a dashboard can graph it. */
export const BREAKER_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status' | 'model'>;
  readonly httpDuration: Histogram<'route' | 'method' | 'model'>;
  /**
   * Calls to the backend: `backend` its kind (triton, embedded), `method` the Open Inference Protocol
   * method (ModelInfer, ServerReady...), `outcome` OK or the gateway's error code for the failure.
   */
  readonly backendCalls: Counter<'backend' | 'method' | 'outcome'>;
  readonly backendCallDuration: Histogram<'backend' | 'method'>;
  readonly breakerState: Gauge;
  readonly breakerTransitions: Counter<'to'>;
  readonly breakerRejections: Counter;
  /** Deadlines missed while the gateway's own event loop stalled: not counted against the link. */
  readonly deadlinesExcused: Counter<'rpc'>;
  readonly eventLoopDelayMax: Gauge;
  /** Connections cut because the client was too slow: its body stalled, or it stopped reading the answer. */
  readonly slowClientsCut: Counter<'phase'>;
  readonly ready: Gauge;
  readonly batches: Counter<'model' | 'reason'>;
  readonly batchRows: Histogram<'model'>;
  readonly queueWait: Histogram<'model'>;
  readonly queueRows: Gauge<'model'>;
  readonly shedRequests: Counter<'model'>;
  /** Requests being worked on (not probes or /metrics): the load signal for autoscaling (k8s/ HPA). */
  readonly inflightRequests: Gauge;
  /** Where inflightRequests reads its value when scraped, so counting costs nothing per request. */
  countInFlightWith(reader: () => number): void;
}

/** The window of gateway_event_loop_delay_max_seconds. */
const EVENT_LOOP_DELAY_WINDOW_MS = 10_000;
const BATCH_ROW_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const QUEUE_WAIT_BUCKETS_SECONDS = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export function createMetrics(options: { readonly collectProcessMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.collectProcessMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'gateway_' });
  const registers = [registry];
  let readInFlight: () => number = () => 0;
  return {
    registry,
    httpRequests: new Counter({
      name: 'gateway_http_requests_total',
      help: 'HTTP requests answered, by route, method, status and model.',
      labelNames: ['route', 'method', 'status', 'model'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'Time from request arrival to the last byte of the answer.',
      labelNames: ['route', 'method', 'model'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    backendCalls: new Counter({
      name: 'gateway_backend_calls_total',
      help: 'Calls to the backend (gRPC calls to Triton; runs of the embedded backend), by backend, protocol method and outcome (OK or the error code).',
      labelNames: ['backend', 'method', 'outcome'],
      registers,
    }),
    backendCallDuration: new Histogram({
      name: 'gateway_backend_call_duration_seconds',
      help: 'Duration of calls to the backend, by backend and protocol method.',
      labelNames: ['backend', 'method'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    breakerState: new Gauge({
      name: 'gateway_breaker_state',
      help: 'Circuit breaker to Triton: 0 closed, 1 half-open, 2 open.',
      registers,
    }),
    breakerTransitions: new Counter({
      name: 'gateway_breaker_transitions_total',
      help: 'Circuit breaker state changes, by the state entered.',
      labelNames: ['to'],
      registers,
    }),
    breakerRejections: new Counter({
      name: 'gateway_breaker_rejections_total',
      help: 'Calls refused at once because the breaker was open.',
      registers,
    }),
    deadlinesExcused: new Counter({
      name: 'gateway_deadlines_excused_total',
      help: "Calls to Triton that missed their deadline while the gateway's own event loop stalled; not counted against the link.",
      labelNames: ['rpc'],
      registers,
    }),
    eventLoopDelayMax: new Gauge({
      name: 'gateway_event_loop_delay_max_seconds',
      help: "Longest stall of the gateway's event loop in the last 10 s.",
      registers,
      collect() {
        this.set(eventLoopDelay().maxDelayMsSince(performance.now() - EVENT_LOOP_DELAY_WINDOW_MS) / 1000);
      },
    }),
    slowClientsCut: new Counter({
      name: 'gateway_slow_clients_cut_total',
      help: 'Connections cut for a slow client: body (no bytes for BODY_IDLE_TIMEOUT_MS, answered 408) or write (answer unread for WRITE_TIMEOUT_MS, destroyed).',
      labelNames: ['phase'],
      registers,
    }),
    ready: new Gauge({
      name: 'gateway_ready',
      help: '1 when the gateway reports ready, else 0.',
      registers,
    }),
    batches: new Counter({
      name: 'gateway_batches_total',
      help: 'Batches sent to the backend, by model and why they were sent (link_idle, slot_freed, full, window, deadline, shutdown).',
      labelNames: ['model', 'reason'],
      registers,
    }),
    batchRows: new Histogram({
      name: 'gateway_batch_rows',
      help: 'Rows (batch dimension) per batch sent to the backend.',
      labelNames: ['model'],
      buckets: BATCH_ROW_BUCKETS,
      registers,
    }),
    queueWait: new Histogram({
      name: 'gateway_batch_queue_wait_seconds',
      help: 'Time a request waited in the batch queue before its batch was sent.',
      labelNames: ['model'],
      buckets: QUEUE_WAIT_BUCKETS_SECONDS,
      registers,
    }),
    queueRows: new Gauge({
      name: 'gateway_batch_queue_rows',
      help: 'Rows waiting in the batch queues of a model.',
      labelNames: ['model'],
      registers,
    }),
    shedRequests: new Counter({
      name: 'gateway_shed_requests_total',
      help: 'Requests refused with 429 because the model queue was full.',
      labelNames: ['model'],
      registers,
    }),
    inflightRequests: new Gauge({
      name: 'gateway_inflight_requests',
      help: 'Requests the gateway is working on (received, not yet answered); probes and /metrics excluded.',
      registers,
      collect() {
        this.set(readInFlight());
      },
    }),
    countInFlightWith(reader) {
      readInFlight = reader;
    },
  };
}
