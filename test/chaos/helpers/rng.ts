// Seeded randomness for the fault tests: every kill moment and message mix comes from one seed, so
// a failing run can be replayed exactly with CHAOS_SEED=<seed printed in its report>.

export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

/** The suite's base seed: CHAOS_SEED, or a fixed default so that plain runs are repeatable. */
export const BASE_SEED = Number(process.env.CHAOS_SEED ?? 20_261_122);

/** mulberry32: tiny, fast and good enough to spread kill moments; not for anything secret. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
  };
}

/** One stream per scenario: the base seed mixed with the scenario's name. */
export function scenarioRng(scenario: string): Rng {
  let hash = BASE_SEED >>> 0;
  for (const char of scenario) hash = Math.imul(hash ^ char.charCodeAt(0), 16_777_619) >>> 0;
  return createRng(hash);
}
