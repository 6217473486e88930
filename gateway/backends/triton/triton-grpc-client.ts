// A thin, typed unary-call layer over one grpc-js channel to Triton: every call has a deadline, can be
// cancelled through an AbortSignal, is timed and counted, and fails with a mapped TritonRpcError. A
// channel stuck connecting is replaced (see CONNECT_TIMEOUT_MS).
import { Client, Metadata, connectivityState, credentials, status as GrpcStatus } from '@grpc/grpc-js';
import type { ChannelOptions, ClientUnaryCall, ServiceError } from '@grpc/grpc-js';
import { eventLoopDelay, whenStallsRecorded } from '../../observability/event-loop-delay.ts';
import type { EventLoopDelay } from '../../observability/event-loop-delay.ts';
import type { Logger } from '../../observability/logger.ts';
import { CALL_OK } from '../../observability/metrics.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import type { CallOptions } from '../backend.ts';
import { loadInferenceProtocol, serviceMethods } from './inference-protocol.ts';
import type { RpcName, UnaryMethod } from './inference-protocol.ts';
import { TritonRpcError } from './triton-rpc-error.ts';
import { grpcStatusName, mapGrpcStatus } from './grpc-status-map.ts';

export interface TritonClientOptions {
  /** host:port of Triton's gRPC endpoint. */
  readonly address: string;
  readonly keepaliveMs: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

// Reconnect quickly after Triton restarts: a pod restart takes seconds, and grpc-js would otherwise back
// off up to two minutes between attempts.
const INITIAL_RECONNECT_BACKOFF_MS = 100;
const MAX_RECONNECT_BACKOFF_MS = 2000;
const KEEPALIVE_TIMEOUT_MS = 10_000;
// A Triton container that is recreated (compose, a restarted pod with a Service name) comes back on a new
// IP: re-resolve its name within a second of losing it, not after grpc-js' default of 30 s (seen in
// test/container/: /ready stayed 503 for 30 s after the Triton container was back).
const DNS_MIN_RESOLUTION_INTERVAL_MS = 1000;
// grpc-js sets no timeout on the TCP connect itself. To an address that silently drops packets (the IP of
// a Triton container that died, now answered by nobody) a connect hangs until the kernel gives up, about
// two minutes, and meanwhile the channel neither resolves the name again nor tries elsewhere (seen in
// test/container/: a new Triton container under the same name stayed unreachable). When calls keep
// failing while the channel has been connecting this long, the channel is replaced by a new one, which
// resolves the name afresh. Triton on a LAN or localhost connects in milliseconds or refuses at once.
const CONNECT_TIMEOUT_MS = 5000;
const UNLIMITED = -1;
/** The same transport failure is logged at warn once in this long (then at debug), not once per request. */
const TRANSPORT_LOG_EVERY_MS = 10_000;
/** Deadlines excused by a stalled event loop: one warn a second at most. */
const STALL_LOG_EVERY_MS = 1000;

export class TritonGrpcClient {
  readonly address: string;
  readonly #channelOptions: ChannelOptions;
  readonly #methods: Readonly<Record<RpcName, UnaryMethod>>;
  readonly #metrics: GatewayMetrics;
  readonly #logger: Logger;
  #client: Client;
  /** performance.now() of the first failed call that found the channel connecting, while it still is. */
  #connectingSince: number | undefined;
  /**
   * performance.now() of the last answered ModelInfer, of any model. A deadline missed while an
   * inference was answered is a busy or hung model (this one's queue, another model's instance), not the
   * link: a single-model Triton that is merely overloaded must not open the breaker. Health, index and
   * metadata answers prove nothing: a Triton whose every model instance is stuck still answers them,
   * and must open the breaker.
   */
  #inferAnsweredAt = -Infinity;
  readonly #loop: EventLoopDelay = eventLoopDelay();
  #lastTransportLog = { key: '', at: -Infinity };
  #lastStallLogAt = -Infinity;
  #closed = false;

  constructor(options: TritonClientOptions) {
    this.address = options.address;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#methods = serviceMethods(loadInferenceProtocol());
    this.#channelOptions = {
      'grpc.keepalive_time_ms': options.keepaliveMs,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
      // Triton refuses pings on idle connections by default (too_many_pings); ping only during calls.
      'grpc.keepalive_permit_without_calls': 0,
      'grpc.initial_reconnect_backoff_ms': INITIAL_RECONNECT_BACKOFF_MS,
      'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
      'grpc.dns_min_time_between_resolutions_ms': DNS_MIN_RESOLUTION_INTERVAL_MS,
      'grpc.max_receive_message_length': UNLIMITED,
      'grpc.max_send_message_length': UNLIMITED,
      'grpc.enable_retries': 0,
      // Channelz keeps per-call statistics for a debugging service the gateway does not expose.
      'grpc.enable_channelz': 0,
    };
    this.#client = this.#newClient();
  }

  #newClient(): Client {
    return new Client(this.address, credentials.createInsecure(), this.#channelOptions);
  }

  call<TResponse extends object>(rpc: RpcName, request: object, options: CallOptions): Promise<TResponse> {
    if (this.#closed) return Promise.reject(new TritonRpcError(GrpcStatus.UNAVAILABLE, 'client closed', rpc));
    const method = this.#methods[rpc];
    const started = performance.now();
    const budgetMs = options.deadline - Date.now();
    return new Promise<TResponse>((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) {
        reject(new TritonRpcError(GrpcStatus.CANCELLED, 'cancelled before the call', rpc));
        return;
      }
      const onAbort = (): void => call.cancel();
      // grpc-js captures a stack trace (new Error()) on every call, only to append it to a failed call's
      // message; TritonRpcError keeps code and details alone. Measured: 13% of the gateway's CPU per
      // request without batching. The limit is restored before anything else runs.
      const stackTraceLimit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      let call: ClientUnaryCall;
      try {
        call = this.#client.makeUnaryRequest<object, object>(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          request,
          new Metadata(),
          { deadline: options.deadline },
          (error: ServiceError | null, response?: object) => {
            signal?.removeEventListener('abort', onAbort);
            const code = error ? error.code : GrpcStatus.OK;
            const now = performance.now();
            if (code === GrpcStatus.OK) {
              this.#connectingSince = undefined;
              if (rpc === 'ModelInfer') this.#inferAnsweredAt = now;
            } else if (code === GrpcStatus.DEADLINE_EXCEEDED || code === GrpcStatus.UNAVAILABLE) this.#replaceIfStuckConnecting();
            // The outcome a client would read (the mapped code); the gRPC status name is in the log.
            const outcome = error ? mapGrpcStatus(code, error.details).code : CALL_OK;
            this.#metrics.backendCalls.inc({ backend: 'triton', method: rpc, outcome });
            this.#metrics.backendCallDuration.observe({ backend: 'triton', method: rpc }, (now - started) / 1000);
            if (!error) resolve(response as TResponse);
            else if (error.code !== GrpcStatus.DEADLINE_EXCEEDED) reject(this.#failure(rpc, error, started, budgetMs, options.clientDeadline === true));
            // Right after a stall the deadline timer runs before the delay monitor has recorded the stall.
            else whenStallsRecorded(() => reject(this.#failure(rpc, error, started, budgetMs, options.clientDeadline === true)));
          },
        );
      } finally {
        Error.stackTraceLimit = stackTraceLimit;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The mapped error of a failed call, with what the breaker must know about a missed deadline; logs transport details. */
  #failure(rpc: RpcName, error: ServiceError, started: number, budgetMs: number, clientDeadline: boolean): TritonRpcError {
    const missed = error.code === GrpcStatus.DEADLINE_EXCEEDED && !clientDeadline;
    const loopStalled = missed && this.#loop.excusesDeadline(started, budgetMs);
    const failure = new TritonRpcError(error.code, error.details, rpc, {
      clientDeadline,
      loopStalled,
      linkAnsweredMeanwhile: missed && this.#inferAnsweredAt > started,
    });
    if (loopStalled) this.#noteStall(rpc, started, budgetMs);
    if (failure.transport && failure.linkFailure) this.#logTransport(rpc, failure);
    else if (this.#logger.isLevelEnabled('debug')) this.#logger.debug({ rpc, code: grpcStatusName(failure.grpcStatus), details: failure.details }, 'Triton answered with an error');
    return failure;
  }

  #noteStall(rpc: RpcName, started: number, budgetMs: number): void {
    this.#metrics.deadlinesExcused.inc({ rpc });
    const now = performance.now();
    const level = now - this.#lastStallLogAt >= STALL_LOG_EVERY_MS ? 'warn' : 'debug';
    if (level === 'warn') this.#lastStallLogAt = now;
    if (!this.#logger.isLevelEnabled(level)) return;
    this.#logger[level](
      { rpc, budgetMs: Math.round(budgetMs), stallMs: Math.round(this.#loop.maxDelayMsSince(started)) },
      "deadline missed while the gateway's event loop stalled: not counted against the link to Triton",
    );
  }

  /** grpc-js's words about the connection (with Triton's address) go to the log, never to a client. */
  #logTransport(rpc: RpcName, failure: TritonRpcError): void {
    const now = performance.now();
    // Keyed on rpc and code, not details: a deadline's details hold the elapsed time and address, so
    // every timed-out call against a frozen Triton would otherwise log a warning of its own.
    const key = `${rpc}:${failure.grpcStatus}`;
    const repeated = key === this.#lastTransportLog.key && now - this.#lastTransportLog.at < TRANSPORT_LOG_EVERY_MS;
    const level = repeated ? 'debug' : 'warn';
    if (!repeated) this.#lastTransportLog = { key, at: now };
    if (this.#logger.isLevelEnabled(level)) {
      this.#logger[level]({ rpc, code: grpcStatusName(failure.grpcStatus), details: failure.details, address: this.address }, 'call to Triton failed on the link');
    }
  }

  /** Called after a failed call: replaces the channel once it has been connecting for CONNECT_TIMEOUT_MS. */
  #replaceIfStuckConnecting(): void {
    if (this.#closed) return;
    if (this.#client.getChannel().getConnectivityState(false) !== connectivityState.CONNECTING) {
      this.#connectingSince = undefined;
      return;
    }
    const now = performance.now();
    this.#connectingSince ??= now;
    if (now - this.#connectingSince < CONNECT_TIMEOUT_MS) return;
    this.#logger.warn({ address: this.address, connectingMs: Math.round(now - this.#connectingSince) }, 'gRPC channel to Triton stuck connecting: replaced by a new one');
    const stuck = this.#client;
    this.#client = this.#newClient();
    this.#connectingSince = undefined;
    stuck.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.close();
  }
}
