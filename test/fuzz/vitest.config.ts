// The long fuzz run: the same property tests `npm test` runs briefly, with FUZZ_RUNS raised (the
// environment wins, so `FUZZ_RUNS=5000 FUZZ_SEED=random` works too). One file, one worker, real
// Redis on TEST_REDIS_URL. Run: npx vitest run --config test/fuzz/vitest.config.ts
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Runs per property for the long run: 1000 × 32 SMTP sessions and 1000 × 48 HTTP requests. */
const LONG_RUNS = '1000';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/integration/hostile-fuzz.test.ts'],
    environment: 'node',
    fileParallelism: false,
    env: { FUZZ_RUNS: process.env.FUZZ_RUNS ?? LONG_RUNS },
    // The tests size their own timeouts from FUZZ_RUNS; hooks start and stop whole gateways.
    hookTimeout: 60_000,
  },
});
