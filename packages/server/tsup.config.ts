import { defineConfig } from 'tsup';

export default defineConfig([
  // The library and the Node runtime, for both module systems.
  {
    entry: ['src/index.ts', 'src/runtime/node.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    sourcemap: true,
  },
  // The `wallcrawler` CLI: ESM only.
  { entry: ['src/cli.ts'], format: ['esm'], target: 'node20', sourcemap: true },
]);
