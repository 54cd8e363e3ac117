import { defineConfig } from 'tsup';

export default defineConfig([
  // The library, for both module systems.
  { entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, target: 'node20', sourcemap: true },
  // The `wallcrawler-controller` binary: ESM only (it uses top-level await).
  { entry: ['src/main.ts'], format: ['esm'], target: 'node20', sourcemap: true },
]);
