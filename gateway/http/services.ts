// What the HTTP layer is given to work with; gateway.ts builds it. No backend: HTTP reaches it only
// through the models (catalog, readiness) and, for inference, the dispatcher.
import type { InferDispatcher } from '../batching/infer-dispatcher.ts';
import type { GatewayConfig } from '../config.ts';
import type { ModelCatalog } from '../models/model-catalog.ts';
import type { ReadinessMonitor } from '../models/readiness-monitor.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { BodyParsePool } from './body-parse-pool.ts';
import type { DrainGate } from './drain-gate.ts';

export interface HttpServices {
  readonly config: GatewayConfig;
  readonly catalog: ModelCatalog;
  readonly monitor: ReadinessMonitor;
  readonly dispatcher: InferDispatcher;
  readonly gate: DrainGate;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Parse threads for large bodies; the owner closes them at shutdown. */
  readonly parsePool: BodyParsePool;
}
