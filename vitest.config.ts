import { defineConfig } from 'vitest/config';

/**
 * Two suites by speed. unit (test/unit/, mirroring the source): no socket, no server, no process; a
 * setup file makes any network use fail. integration (test/integration/): the wire-level doubles, the
 * local API server, dynalite, the synthesized state machine, bundling. `npm test` runs both; `npm run
 * test:unit` is the inner loop.
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // Lambda's metrics are log lines (EMF); the tests read them where they mean to.
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/support/no-network.ts'],
        },
      },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
    ],
  },
});
