import { describe, expect, it } from 'vitest';
import {
  mastersShortOfReplicas,
  refuseUnfitMasters,
  type DurabilityReport,
} from '../../src/shared/redis-checks.js';

function report(version: string, maxmemoryPolicy = 'noeviction'): DurabilityReport {
  return { node: '10.0.0.3:7002', version, maxmemoryPolicy, aofEnabled: true, replicas: 1 };
}

describe('start-up Redis checks', () => {
  it('refuses a master older than BullMQ needs, naming it', () => {
    expect(() => refuseUnfitMasters([report('7.2.4'), report('6.0.16')])).toThrow(
      /Redis 6\.0\.16 on 10\.0\.0\.3:7002: the gateway needs Redis 6\.2 or newer/,
    );
  });

  it('accepts 6.2 and newer, and a version INFO does not give', () => {
    expect(() => refuseUnfitMasters([report('6.2.0'), report('7.0.15'), report('unknown')])).not.toThrow();
  });

  it('refuses a master that may evict', () => {
    expect(() => refuseUnfitMasters([report('7.2.4', 'allkeys-lru')])).toThrow(/allkeys-lru/);
  });

  it('finds the masters with fewer replicas than REDIS_WAIT_REPLICAS waits for', () => {
    const one = report('7.2.4');
    const none = { ...report('7.2.4'), node: '10.0.0.4:7003', replicas: 0 };
    expect(mastersShortOfReplicas([one, none], 1)).toEqual([none]);
    expect(mastersShortOfReplicas([one, none], 2)).toEqual([one, none]);
    expect(mastersShortOfReplicas([none], 0)).toEqual([]);
  });
});
