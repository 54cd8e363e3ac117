import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    sourcemap: true,
    // `import.meta.url` (used to find the assets it deploys) in the CommonJS build too.
    shims: true,
    // The construct library's peers, and the shared contracts, stay imports.
    external: ['aws-cdk-lib', 'constructs', '@wallcrawler/contracts'],
  },
]);
