#!/usr/bin/env node
// Part of this package's build: copies what the stack deploys into `assets/`, so the published package carries
// it and depends on neither `@wallcrawler/server` nor `@wallcrawler/controller` (nor on their dependencies:
// Stagehand, rrweb, ws, the AWS SDK). The Lambda bundles are self-contained files; the controller's image
// context is its Dockerfile, `package.json` and `dist/`. Both come from the workspace's builds, which run first.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const packages = join(root, '..');
const assets = join(root, 'assets');

const lambdas = ['api', 'task-state', 'warm-pool'].map((name) => ({
  from: join(packages, 'server', 'dist', 'lambda', name),
  to: join(assets, 'lambda', name),
}));
const image = ['Dockerfile', '.dockerignore', 'package.json', 'dist'].map((name) => ({
  from: join(packages, 'controller', name),
  to: join(assets, 'controller-image', name),
}));
const missing = [...lambdas, ...image].filter(({ from }) => !existsSync(from)).map(({ from }) => from);
if (missing.length > 0) {
  console.error(
    `@wallcrawler/infra-cdk's build copies the built server and controller; these are missing:\n${missing.map((m) => `  ${m}`).join('\n')}\nBuild them first (\`npm run build\` at the repository root does, in order).`,
  );
  process.exit(1);
}
rmSync(assets, { recursive: true, force: true });
for (const { from, to } of [...lambdas, ...image]) {
  mkdirSync(dirname(to), { recursive: true });
  // Source maps stay behind: the image context ignores them, and the functions are deployed minified.
  cpSync(from, to, { recursive: true, filter: (path) => !path.endsWith('.map') });
}
console.log(`copied the Lambda bundles and the controller's image context into ${assets}`);
