import { describe, expect, it } from 'vitest';
import { createByteBudget } from '../../src/queue/byte-budget.js';

describe('worker byte budget', () => {
  it('admits messages up to the budget, queues the rest in order, and lets a huge one through alone', async () => {
    const budget = createByteBudget(100);
    const a = await budget.acquire(60);
    const order: string[] = [];
    const b = budget.acquire(50).then((release) => {
      order.push('b');
      return release;
    });
    const c = budget.acquire(500).then((release) => {
      order.push('c');
      return release;
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(budget.inUse).toBe(60);
    a();
    const releaseB = await b;
    expect(order).toEqual(['b']);
    releaseB();
    const releaseC = await c;
    expect(budget.inUse).toBe(500);
    releaseC();
    releaseC();
    expect(budget.inUse).toBe(0);
  });
});
