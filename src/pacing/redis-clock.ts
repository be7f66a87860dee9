// Maps Redis server time (in which every host books its send slots) onto this process's monotonic
// clock, so a caller wakes at the local instant its slot starts whatever its own wall clock says.
// Each reply carries a Redis instant that happened between the request leaving and the reply
// arriving; intersecting those brackets pins the offset to within the fastest round trip seen.

/**
 * How fast the Redis host's clock may run against ours: NTP slews each clock by up to 500 ppm, so two
 * hosts can differ by twice that. Too small would make a stale bracket look exact.
 */
const MAX_DRIFT_RATIO = 1e-3;

export interface RedisClock {
  /** A Redis instant observed by a request sent at `sentAt` and answered at `receivedAt` (performance.now()). */
  observe(redisMs: number, sentAt: number, receivedAt: number): void;
  /** The earliest local instant that can match `redisMs`. */
  earliestLocal(redisMs: number): number;
  /** The local instant by which `redisMs` has surely passed: waking then is never early. */
  surelyPassedLocal(redisMs: number): number;
  /** Width of the offset bracket in ms; Infinity before the first observation. */
  uncertaintyMs(): number;
}

export function createRedisClock(): RedisClock {
  // offset = redis time - local time, known to lie in [lo, hi] as of local time `updatedAt`.
  let lo = Number.NEGATIVE_INFINITY;
  let hi = Number.POSITIVE_INFINITY;
  let updatedAt = 0;

  return {
    observe(redisMs, sentAt, receivedAt) {
      const drift = (receivedAt - updatedAt) * MAX_DRIFT_RATIO;
      const sampleLo = redisMs - receivedAt;
      const sampleHi = redisMs - sentAt;
      const newLo = Math.max(lo - drift, sampleLo);
      const newHi = Math.min(hi + drift, sampleHi);
      // Disjoint brackets mean the Redis clock stepped (or a failover changed hosts): start again.
      if (newLo > newHi) {
        lo = sampleLo;
        hi = sampleHi;
      } else {
        lo = newLo;
        hi = newHi;
      }
      updatedAt = receivedAt;
    },
    earliestLocal: (redisMs) => redisMs - hi,
    surelyPassedLocal: (redisMs) => redisMs - lo,
    uncertaintyMs: () => hi - lo,
  };
}
