import { describe, expect, it } from 'vitest';
import { err, ok } from '../../../gateway/result.ts';
import type { Result } from '../../../gateway/result.ts';

describe('result', () => {
  it('ok carries a value and err an error, told apart by ok', () => {
    const results: Result<number, string>[] = [ok(1), err('bad')];
    expect(results.map((r) => (r.ok ? `value ${r.value}` : `error ${r.error}`))).toEqual(['value 1', 'error bad']);
    expect(ok(1)).toEqual({ ok: true, value: 1 });
    expect(err('bad')).toEqual({ ok: false, error: 'bad' });
  });
});
