// What `npm run setup` (scripts/setup.mjs) and `npm test`'s pretest (scripts/prepare-tests.mjs) share: their
// progress output, running a command, installing a Debian package, and telling whether a build is current.
// No dependencies: setup runs it before `npm ci`.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;

/** Prints the title of the next step. */
export const step = (text) => console.log(`\n▸ ${text}`);

/** Prints what went wrong and what to do, and exits 1. */
export const fail = (text) => {
  console.error(`\n✗ ${text}`);
  process.exit(1);
};

/** Runs a command with its output shown, then how long it took; fails the script if it fails. */
export const run = (command, args, options = {}) => {
  console.log(`  $ ${[command, ...args].join(' ')}`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.status !== 0) fail(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}).`);
  console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
};

export const executable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

export const onPath = (name) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => dir && executable(join(dir, name)));

let aptUpdated = false;
/**
 * Installs Debian packages, as root or through sudo; `apt-get update` runs once, before the first install.
 * `rerun` is the command to run again once the user installed them by hand.
 */
export const aptInstall = (packages, rerun) => {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot && !onPath('sudo'))
    fail(
      `Installing ${packages.join(', ')} needs root: run \`sudo apt-get install -y ${packages.join(' ')}\`, then \`${rerun}\` again.`,
    );
  const asRoot = (args) =>
    isRoot
      ? run('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
      : run('sudo', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]);
  if (!aptUpdated) asRoot(['update']);
  aptUpdated = true;
  asRoot(['install', '-y', ...packages]);
};

/** The workspace packages under `packages/`, by name: their directory and manifest. */
export function workspacePackages() {
  const dir = join(root, 'packages');
  const found = new Map();
  for (const name of readdirSync(dir)) {
    const manifest = join(dir, name, 'package.json');
    if (existsSync(manifest)) {
      const json = JSON.parse(readFileSync(manifest, 'utf8'));
      found.set(json.name, { dir: join(dir, name), manifest: json });
    }
  }
  return found;
}

/** The newest modification time of a file, or of any file under a directory (0 when it does not exist). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

/**
 * Whether the last build of these packages is newer than everything it was built from. `output` names, for a
 * package's manifest, the file whose time stands for its build (a build first empties `dist/`, so the file also
 * says which kind of build ran: no `.d.ts` after a JavaScript-only one). A package is built from its sources,
 * build config and manifest, those of the workspace packages it depends on (the server's Lambda bundles include
 * the controller's build), the shared TypeScript config and the installed dependencies.
 */
export function buildIsCurrent(packages, output) {
  const all = workspacePackages();
  const shared = newestOf([join(root, 'tsconfig.base.json'), join(root, 'node_modules', '.package-lock.json')]);
  return packages.every((p) => {
    const file = join(p.dir, output(p.manifest));
    if (!existsSync(file)) return false;
    const sources = withDependencies(p, all).flatMap((d) =>
      ['src', 'tsup.config.ts', 'package.json'].map((f) => join(d.dir, f)),
    );
    return statSync(file).mtimeMs >= Math.max(shared, newestOf(sources));
  });
}

/** `p` and the workspace packages it depends on, directly or not. */
function withDependencies(p, all, seen = new Set()) {
  if (seen.has(p)) return [];
  seen.add(p);
  const { dependencies = {}, peerDependencies = {}, devDependencies = {} } = p.manifest;
  const names = Object.keys({ ...dependencies, ...peerDependencies, ...devDependencies });
  return [p, ...names.flatMap((name) => (all.has(name) ? withDependencies(all.get(name), all, seen) : []))];
}

const newestOf = (paths) => Math.max(0, ...paths.map(newest));
