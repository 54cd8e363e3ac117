import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Where a workspace package's files are, resolved the way Node would (so it works installed from npm too). */
function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

/**
 * The built files the stack deploys: the Lambda bundles of `@wallcrawler/server` and the controller image's
 * build context (`@wallcrawler/controller`, its Dockerfile and `dist/`).
 * @throws Error saying to build first when they are missing
 */
export function wallcrawlerAssets(): {
  apiFunction: string;
  taskStateFunction: string;
  warmPoolFunction: string;
  controllerImage: string;
} {
  const server = packageDir('@wallcrawler/server');
  const controller = packageDir('@wallcrawler/controller');
  const assets = {
    apiFunction: join(server, 'dist', 'lambda', 'api'),
    taskStateFunction: join(server, 'dist', 'lambda', 'task-state'),
    warmPoolFunction: join(server, 'dist', 'lambda', 'warm-pool'),
    controllerImage: controller,
  };
  const missing = [
    join(assets.apiFunction, 'index.cjs'),
    join(assets.taskStateFunction, 'index.cjs'),
    join(assets.warmPoolFunction, 'index.cjs'),
    join(controller, 'Dockerfile'),
    join(controller, 'dist', 'main.js'),
  ].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(
      `WallcrawlerStack needs the built packages; these are missing:\n${missing.map((m) => `  ${m}`).join('\n')}\nRun \`npm run build\` first.`,
    );
  }
  return assets;
}
