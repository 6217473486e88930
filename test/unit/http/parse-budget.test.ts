import { describe, expect, it } from 'vitest';
import { ParseBudget } from '../../../gateway/http/parse-budget.ts';

describe('ParseBudget', () => {
  it('lets leases take what fits and refuses the rest', () => {
    const budget = new ParseBudget(100);
    const a = budget.lease();
    const b = budget.lease();
    expect(a.take(60)).toBe(true);
    expect(b.take(50)).toBe(false);
    expect(b.take(40)).toBe(true);
    expect(budget.heldBytes).toBe(100);
    expect(b.take(1)).toBe(false);
    a.release();
    expect(budget.heldBytes).toBe(40);
    expect(b.take(60)).toBe(true);
  });

  it('lets one body larger than the whole budget through alone, chunk by chunk', () => {
    const budget = new ParseBudget(100);
    const big = budget.lease();
    expect(big.take(80)).toBe(true);
    expect(big.take(80)).toBe(true);
    const other = budget.lease();
    expect(other.take(1)).toBe(false);
    big.release();
    expect(other.take(1)).toBe(true);
  });

  it('releases once, and a released lease takes nothing more', () => {
    const budget = new ParseBudget(100);
    const lease = budget.lease();
    lease.take(30);
    lease.release();
    lease.release();
    expect(budget.heldBytes).toBe(0);
    expect(lease.take(10)).toBe(false);
    expect(budget.heldBytes).toBe(0);
  });
});
