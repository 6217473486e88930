// What a client may read of a backend's own words: no addresses (IP or host name with port), no server
// paths, no Python tracebacks; the operator's log keeps them.
import { describe, expect, it } from 'vitest';
import { clientDetails } from '../../../gateway/backends/client-details.ts';

describe('clientDetails', () => {
  it.each([
    ['a host name with port and a bare IP', 'cannot reach redis.internal.svc:6379 and 10.1.2.3', 'cannot reach <address> and <address>'],
    ['an IP with port', 'remote_addr=127.0.0.1:8001 failed', '<address> failed'],
    ['localhost with port', 'connect to localhost:8001 refused', 'connect to <address> refused'],
    ['an absolute path', 'onnxruntime could not load /models/digits/1/model.onnx: bad', 'onnxruntime could not load <path>: bad'],
    ['a Python traceback', "ValueError: bad\nAt:\n  /opt/model.py(12): execute\n", 'ValueError: bad'],
  ])('hides %s', (_what, details, expected) => {
    expect(clientDetails(details)).toBe(expected);
  });

  it.each([
    ["a model's name, version and datatype", "model 'digits_0_0' version 2 expects FP32 [-1,64]"],
    ['a version number with dots', 'triton 2.51.0 refused: explicit model load / unload is not allowed'],
    ['a relative model path', 'failed to read the label file digits/labels.txt'],
  ])('keeps %s', (_what, details) => {
    expect(clientDetails(details)).toBe(details);
  });
});
