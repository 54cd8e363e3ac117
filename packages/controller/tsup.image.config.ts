/**
 * The container image's `/app`, bundled: `dist/app/`, which the Dockerfile copies whole. Its JavaScript is every
 * process entry (`src/<part>/main.ts`: the browser task, and any other command the image runs, such as the
 * edge gateway's) and the health check, each bundled with its dependencies as the lockfile installed them, so
 * the image needs no `npm install` and its runtime has no npm. Part of the package's build (before the library's,
 * so that `--no-dts` given to the build reaches the library's).
 *
 * Two packages are read from their files at run time rather than imported, so they are copied, not bundled:
 * `ws` (the CDP tap loads its permessage-deflate internals from `ws/lib`) and rrweb's recorder script (injected
 * into pages). They go to `dist/app/node_modules`, where Node's lookup from `/app/dist` finds them.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

const here = dirname(fileURLToPath(import.meta.url));
const appDir = join(here, 'dist', 'app');

/** Every `src/<part>/main.ts`, named `<part>/main` (the image runs `node dist/<part>/main.js`). */
const mains = Object.fromEntries(
  readdirSync(join(here, 'src'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(here, 'src', entry.name, 'main.ts')))
    .map((entry) => [`${entry.name}/main`, `src/${entry.name}/main.ts`]),
);

/** Packages copied as files, with the files each needs (`undefined`: the whole package). */
const copied: Record<string, string[] | undefined> = {
  ws: undefined,
  '@rrweb/record': ['package.json', 'dist/record.umd.min.cjs'],
};

/** A package's directory as Node finds it from this package (the version the lockfile gave it). */
function installed(name: string): string {
  const paths = createRequire(join(here, 'package.json')).resolve.paths(name) ?? [];
  const dir = paths.map((base) => join(base, name)).find((d) => existsSync(join(d, 'package.json')));
  if (!dir) throw new Error(`${name} is not installed: run \`npm ci\` first`);
  return dir;
}

function copyRuntimeFiles(): void {
  for (const [name, files] of Object.entries(copied)) {
    const from = installed(name);
    const to = join(appDir, 'node_modules', name);
    if (files === undefined) cpSync(from, to, { recursive: true, dereference: true });
    for (const file of files ?? []) {
      mkdirSync(dirname(join(to, file)), { recursive: true });
      cpSync(join(from, file), join(to, file));
    }
  }
  const { version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')) as { version: string };
  // ESM, as the bundles are; the image's /app is no package to install.
  writeFileSync(
    join(appDir, 'package.json'),
    `${JSON.stringify({ name: '@wallcrawler/controller-image', version, private: true, type: 'module' }, null, 2)}\n`,
  );
}

export default defineConfig({
  entry: { ...mains, 'task/health': 'src/task/health.ts' },
  outDir: join(appDir, 'dist'),
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  // Everything but the copied packages is bundled; chunks shared between the entries (and Stagehand, imported
  // only when a session uses it) are split out, so a process loads only what it runs.
  noExternal: [/^(?!ws$)/],
  external: ['ws'],
  splitting: true,
  // The workspace packages from their sources, never a stale build of theirs.
  esbuildOptions(options) {
    options.conditions = ['@wallcrawler/source'];
  },
  // The bundled CommonJS dependencies call `require` and read `__dirname`, which an ES module lacks.
  banner: {
    js: [
      "import { createRequire as __wcCreateRequire } from 'node:module';",
      "import { fileURLToPath as __wcFileURLToPath } from 'node:url';",
      'const require = __wcCreateRequire(import.meta.url);',
      'const __filename = __wcFileURLToPath(import.meta.url);',
      "const __dirname = __wcFileURLToPath(new URL('.', import.meta.url));",
    ].join('\n'),
  },
  sourcemap: false,
  minify: false,
  onSuccess: async () => copyRuntimeFiles(),
});
