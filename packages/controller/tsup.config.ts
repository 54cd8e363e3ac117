import { defineConfig } from 'tsup';

export default defineConfig([
  // The library, for both module systems.
  { entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, target: 'node20', sourcemap: true },
  // The `wallcrawler-controller` binary and the container's health check: ESM only (top-level await).
  { entry: ['src/main.ts', 'src/health.ts'], format: ['esm'], target: 'node20', sourcemap: true },
]);
