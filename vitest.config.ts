import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through this export condition, so tests never
// run against a stale build. Vite's bundler-only 'module' condition is left out: the AWS SDK's 'module' builds
// import paths without extensions, which Node cannot load.
const conditions = ['@wallcrawler/source', ...defaultServerConditions.filter((c) => c !== 'module')];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    globalSetup: ['test-support/global-leak-check.ts', 'test-support/global-dynamodb-local.ts'],
    pool: 'forks',
    // Two cores: browser tests in parallel files would only fight over them.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
