// The fault-injection suite (npm run test:chaos): real gateway processes, real Redis instances,
// kills and outages. Kept out of `npm test`: it takes minutes and owns the machine while it runs.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'chaos',
    include: ['test/chaos/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/chaos/global-setup.ts'],
    // One scenario at a time: each one spawns gateways and Redis servers on a 2-core machine.
    fileParallelism: false,
    testTimeout: 150_000,
    hookTimeout: 60_000,
    // Scenario reports go to stdout as they finish.
    silent: false,
  },
});
