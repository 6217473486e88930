// Every log line of a gateway on the embedded backend carries one `component` key: pino writes a child's
// bindings after its parent's, so a component nested in another would print the key twice.
import { expect, it } from 'vitest';
import { loadConfig } from '../../../gateway/config.ts';
import { startGateway } from '../../../gateway/gateway.ts';
import { createLogger } from '../../../gateway/observability/logger.ts';
import { TEST_ENV } from '../../support/gateway-harness.ts';
import { MODEL_REPOSITORY } from './embedded-support.ts';

it('the embedded backend logs with one component key per line', async () => {
  const lines: string[] = [];
  const loaded = loadConfig({ ...TEST_ENV, MODEL_REPOSITORY, MODEL_POLL_INTERVAL_MS: '0' });
  if (!loaded.ok) throw new Error(loaded.message);
  const gateway = await startGateway(loaded.config, { logger: createLogger('info', { write: (line: string) => void lines.push(line) }) });
  await gateway.shutdown('test over');
  const loadedLines = lines.filter((line) => line.includes('"msg":"model version loaded"'));
  expect(loadedLines, 'the embedded backend logged its loads').not.toEqual([]);
  for (const line of lines) expect(line.match(/"component":/g)?.length ?? 0, line).toBeLessThanOrEqual(1);
  for (const line of loadedLines) expect(JSON.parse(line)).toMatchObject({ component: 'embedded-backend' });
});
