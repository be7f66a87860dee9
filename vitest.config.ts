import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // Each file uses its own REDIS_PREFIX; files still run one at a time so that timing-sensitive
          // tests (shutdown, outages) are not starved on a 2-core machine.
          fileParallelism: false,
          globalSetup: ['test/setup/transpiled-sources.ts'],
          // One worker thread that keeps its loaded modules from file to file: each file used to load
          // the sources, BullMQ and the AWS SDK afresh (about 0.8 s a file). 371 s for the integration
          // files on the 2-core machine, against 454 s with a fresh thread per file and 558 s with a
          // process per file. Files share no state in memory: each has its own Redis prefix, ports and
          // servers, and restores anything global it changes (NODE_OPTIONS, spies).
          pool: 'threads',
          isolate: false,
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
