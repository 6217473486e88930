// Configuration: defaults, parsing, and a clear refusal (exit 1) of invalid values.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config.ts';
import { runGatewayMain } from '../support/gateway-process.ts';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const loaded = loadConfig({ TRITON_GRPC_URL: 'triton:8001' });
    expect(loaded).toMatchObject({
      ok: true,
      config: { PORT: 8080, MODEL_REPOSITORY: './model_repository', REQUEST_TIMEOUT_MS: 30_000, LOG_LEVEL: 'info' },
    });
    if (loaded.ok) {
      expect(loaded.config.SERVED_MODELS).toBeUndefined();
      expect(Object.isFrozen(loaded.config)).toBe(true);
    }
  });

  it('parses numbers, lists and keeps 0 where 0 is legal', () => {
    const loaded = loadConfig({ TRITON_GRPC_URL: '[::1]:8001', PORT: '0', SHUTDOWN_GRACE_MS: '0', SERVED_MODELS: ' digits, text_topic ,' });
    expect(loaded).toMatchObject({ ok: true, config: { PORT: 0, SHUTDOWN_GRACE_MS: 0, SERVED_MODELS: ['digits', 'text_topic'] } });
  });

  it.each([
    [{ TRITON_GRPC_URL: 'http://triton:8001' }, 'TRITON_GRPC_URL: expected host:port'],
    [{ TRITON_GRPC_URL: 'triton:8001', PORT: 'eighty' }, 'PORT'],
    [{ TRITON_GRPC_URL: 'triton:8001', PORT: '70000' }, 'PORT'],
    [{ TRITON_GRPC_URL: 'triton:8001', REQUEST_TIMEOUT_MS: '-5' }, 'REQUEST_TIMEOUT_MS'],
    [{ TRITON_GRPC_URL: 'triton:8001', BREAKER_ERROR_THRESHOLD_PERCENT: '150' }, 'BREAKER_ERROR_THRESHOLD_PERCENT'],
    [{ TRITON_GRPC_URL: 'triton:8001', LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ TRITON_GRPC_URL: 'triton:8001', SERVED_MODELS: 'a b' }, 'SERVED_MODELS'],
    [{ TRITON_GRPC_URL: 'triton:8001', ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'],
  ])('refuses %j naming %s', (env, field) => {
    const loaded = loadConfig(env);
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.message).toContain(field);
  });

  it('leaves TRITON_GRPC_URL unset for the embedded backend', () => {
    const loaded = loadConfig({});
    expect(loaded).toMatchObject({ ok: true, config: { MODEL_POLL_INTERVAL_MS: 2000, ORT_INTRA_OP_THREADS: 1 } });
    expect(loaded.ok && loaded.config.TRITON_GRPC_URL).toBeUndefined();
  });

  it('never echoes a secret in its message', () => {
    const loaded = loadConfig({ TRITON_GRPC_URL: 'triton:8001', ADMIN_TOKEN: 'secret1' });
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.message).not.toContain('secret1');
  });
});

describe('main with invalid configuration', () => {
  it('prints a clear message and exits 1', async () => {
    const run = runGatewayMain({ TRITON_GRPC_URL: 'not a url', PORT: '0' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/invalid configuration:\n\s+TRITON_GRPC_URL: expected host:port/);
  });
});
