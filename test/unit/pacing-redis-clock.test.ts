import { describe, expect, it } from 'vitest';
import { createRedisClock } from '../../src/pacing/redis-clock.js';

// Redis time = local time + OFFSET in these tests.
const OFFSET = 1_750_000_000_000;

describe('createRedisClock', () => {
  it('knows nothing before the first reply', () => {
    expect(createRedisClock().uncertaintyMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('narrows to the fastest round trip and never wakes before the Redis instant', () => {
    const clock = createRedisClock();
    // Slow reply: the script ran 30 ms into a 40 ms round trip.
    clock.observe(100 + 30 + OFFSET, 100, 140);
    expect(clock.uncertaintyMs()).toBeCloseTo(40, 6);
    // Fast reply: 1 ms round trip.
    clock.observe(200.4 + OFFSET, 200, 201);
    expect(clock.uncertaintyMs()).toBeLessThan(1.01);
    const slot = 1000 + OFFSET; // local 1000 in truth
    expect(clock.surelyPassedLocal(slot)).toBeGreaterThanOrEqual(1000);
    expect(clock.earliestLocal(slot)).toBeLessThanOrEqual(1000);
    expect(clock.surelyPassedLocal(slot) - clock.earliestLocal(slot)).toBeLessThan(1.01);
  });

  it('widens with time for drift between the two clocks', () => {
    const clock = createRedisClock();
    clock.observe(0.5 + OFFSET, 0, 1);
    // 10 s later a slow reply: the old bracket has widened by 10 ms of allowed drift first.
    clock.observe(10_000 + 25 + OFFSET, 10_000, 10_050);
    expect(clock.uncertaintyMs()).toBeGreaterThan(1);
    expect(clock.uncertaintyMs()).toBeLessThan(1 + 2 * 10 + 0.1);
  });

  it('starts again when Redis time jumps (clock step, failover to another host)', () => {
    const clock = createRedisClock();
    clock.observe(0.5 + OFFSET, 0, 1);
    clock.observe(100.5 + OFFSET + 5000, 100, 101);
    expect(clock.uncertaintyMs()).toBeCloseTo(1, 6);
    expect(clock.surelyPassedLocal(1000 + OFFSET + 5000)).toBeCloseTo(1000.5, 6);
  });
});
