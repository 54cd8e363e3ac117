import { defineConfig } from 'tsup';

export default defineConfig([
  // The library and the Node runtime, for both module systems.
  {
    entry: { index: 'src/index.ts', 'runtime/node': 'src/runtime/node.ts', 'aws/index': 'src/aws/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    sourcemap: true,
  },
  // The `wallcrawler` CLI: ESM only.
  { entry: ['src/cli.ts'], format: ['esm'], target: 'node20', sourcemap: true },
  // The Lambda functions: one self-contained file each, every dependency bundled (the AWS SDK too, pinned,
  // rather than whichever version the runtime carries). CommonJS, so the bundled CommonJS dependencies need
  // no shims.
  {
    entry: {
      'lambda/api/index': 'src/aws/lambda/entries/api.ts',
      'lambda/task-state/index': 'src/aws/lambda/entries/task-state.ts',
      'lambda/warm-pool/index': 'src/aws/lambda/entries/warm-pool.ts',
    },
    format: ['cjs'],
    platform: 'node',
    target: 'node22',
    // Except Stagehand: the API function does not run it (Stagehand's routes answer 501 on AWS), and its
    // optional model providers would not bundle. Nor Playwright, which the MCP browser tools load on first use
    // (see docs/mcp.md for AWS).
    noExternal: [/^(?!@browserbasehq\/stagehand|playwright-core)/],
    external: ['@browserbasehq/stagehand', 'playwright-core'],
    splitting: false,
    minify: true,
    sourcemap: true,
    outExtension: () => ({ js: '.cjs' }),
  },
]);
