import { defineConfig } from 'tsup';

export default defineConfig([
  // The library's three entry points (the session runtime, the shared DynamoDB tables, the task program), for
  // both module systems.
  {
    entry: { index: 'src/index.ts', 'aws/index': 'src/aws/index.ts', 'task/index': 'src/task/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    sourcemap: true,
  },
  // The `wallcrawler-controller` binary, the container's health check and the connect edge's entry (the gateway
  // service runs the same image with the command `node dist/edge/main.js`): ESM only (top-level await).
  {
    entry: { 'task/main': 'src/task/main.ts', 'task/health': 'src/task/health.ts', 'edge/main': 'src/edge/main.ts' },
    format: ['esm'],
    target: 'node20',
    sourcemap: true,
  },
]);
