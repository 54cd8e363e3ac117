import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * The directory of the package `name`, as Node would find it from the module at `fromUrl` (its
 * `import.meta.url`): the first `node_modules/<name>` on Node's own lookup path. For the files a package ships
 * but does not export (ws's internals, rrweb's browser bundles), which `require.resolve` refuses.
 * @throws Error when the package is not installed where `fromUrl` can see it
 */
export function packageDirectory(fromUrl: string, name: string): string {
  const paths = createRequire(fromUrl).resolve.paths(name) ?? [];
  for (const base of paths) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`The package ${name} is not installed where ${fromUrl} can find it.`);
}
