import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The built files the stack deploys: the Lambda bundles of `@wallcrawler/server` and the controller image's
 * build context (its Dockerfile and the bundled program it copies, `dist/app/`: the task's and the gateway's
 * entries and their health check). This package's build copies them into its own
 * `assets/` (`scripts/copy-assets.mjs`), so an installed `@wallcrawler/infra-cdk` carries them itself.
 * @throws Error saying to build first when they are missing
 */
export function wallcrawlerAssets(): {
  apiFunction: string;
  taskStateFunction: string;
  warmPoolFunction: string;
  controllerImage: string;
} {
  // Resolved as Node would, through the package's own name, so it is the same from its sources and its build.
  const assetsDir = join(dirname(require.resolve('@wallcrawler/infra-cdk/package.json')), 'assets');
  const assets = {
    apiFunction: join(assetsDir, 'lambda', 'api'),
    taskStateFunction: join(assetsDir, 'lambda', 'task-state'),
    warmPoolFunction: join(assetsDir, 'lambda', 'warm-pool'),
    controllerImage: join(assetsDir, 'controller-image'),
  };
  const missing = [
    join(assets.apiFunction, 'index.cjs'),
    join(assets.taskStateFunction, 'index.cjs'),
    join(assets.warmPoolFunction, 'index.cjs'),
    join(assets.controllerImage, 'Dockerfile'),
    // What the image's commands run: the task (the controller's container) and the connect gateway (the edge's).
    ...['task/main.js', 'task/health.js', 'edge/main.js'].map((entry) =>
      join(assets.controllerImage, 'dist', 'app', 'dist', entry),
    ),
  ].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(
      `WallcrawlerStack needs its built assets; these are missing:\n${missing.map((m) => `  ${m}`).join('\n')}\nRun \`npm run build\` first.`,
    );
  }
  return assets;
}
