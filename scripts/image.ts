/**
 * `npm run image`: builds `packages/controller`'s image (the Fargate browser task, and the edge gateway's
 * command) with whichever container engine this machine has: Docker, Podman or Buildah
 * (scripts/container-engine.ts).
 *
 *   npm run image -- [--base IMAGE] [--refresh-base] [--install-tools] [--tag NAME]
 *
 * The base image. The Dockerfile takes it as the `BASE_IMAGE` build argument (default `debian:trixie-slim`, from
 * Docker Hub). No image registry is reachable from the machines this project is built and tested on, so unless
 * `--base` names one, the base is made here from Debian's own packages: `mmdebstrap` writes a minimal trixie root
 * filesystem (about 20 s, 130 MB), cached in `.cache/image/`, which the engine imports as
 * `localhost/wallcrawler-base:trixie` (kept, so a rebuild reuses it and the engine's layer cache).
 * `--refresh-base` makes it again (for Debian's latest security updates).
 *
 * `--install-tools` (the CI's step) installs Podman, Buildah, mmdebstrap and runc from Debian's packages when
 * there is no engine, as `npm run setup` installs Chromium.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONTROLLER_IMAGE, type ContainerEngine, detectEngine } from './container-engine.js';
// @ts-expect-error: a plain script without types, shared with `npm run setup`.
import { aptInstall, buildIsCurrent, fail, onPath, root, run, step, workspacePackages } from './steps.mjs';

const BASE_IMAGE = 'localhost/wallcrawler-base:trixie';
const SUITE = 'trixie';
const MIRRORS = [
  'deb http://deb.debian.org/debian trixie main',
  'deb http://deb.debian.org/debian trixie-updates main',
  'deb http://deb.debian.org/debian-security trixie-security main',
];
const TOOLS = ['podman', 'buildah', 'mmdebstrap', 'runc'];
const controllerDir = join(root, 'packages', 'controller');

const { values: options } = parseArgs({
  options: {
    base: { type: 'string' },
    'refresh-base': { type: 'boolean', default: false },
    'install-tools': { type: 'boolean', default: false },
    tag: { type: 'string', default: CONTROLLER_IMAGE },
  },
});

function engineOrInstall(): ContainerEngine {
  let engine = detectEngine();
  if (!engine && options['install-tools'] && onPath('apt-get')) {
    console.log(`  none found: installing Debian's ${TOOLS.join(', ')}`);
    aptInstall(TOOLS, 'npm run image');
    engine = detectEngine();
  }
  if (!engine)
    fail(
      `No container engine found (Docker with a running daemon, Podman or Buildah). On Debian: \`sudo apt-get install -y ${TOOLS.join(' ')}\`, or \`npm run image -- --install-tools\`.`,
    );
  return engine as ContainerEngine;
}

/** The bundled `/app` (packages/controller/dist/app), rebuilt when older than its sources. */
function bundle(): void {
  const controller = workspacePackages().get('@wallcrawler/controller');
  if (buildIsCurrent([controller], () => 'dist/app/dist/task/main.js')) {
    console.log('  up to date (dist/app is newer than the sources)');
    return;
  }
  rmSync(join(controllerDir, 'dist', 'app'), { recursive: true, force: true });
  run('npx', ['tsup', '--config', 'tsup.image.config.ts', '--silent'], { cwd: controllerDir });
}

/** The base image's name: `--base`, or one made from Debian's packages (see the top of this file). */
function base(engine: ContainerEngine): string {
  if (options.base) {
    console.log(`  ${options.base} (from --base)`);
    return options.base;
  }
  console.log('  no image registry is reachable here: the base is made from Debian packages with mmdebstrap');
  const cache = join(root, '.cache', 'image');
  const tarball = join(cache, `debian-${SUITE}-minbase.tar`);
  if (options['refresh-base']) rmSync(tarball, { force: true });
  else if (engine.hasImage(BASE_IMAGE)) {
    console.log(`  ${BASE_IMAGE} already imported (--refresh-base makes it again)`);
    return BASE_IMAGE;
  }
  if (existsSync(tarball)) {
    console.log(`  cached root filesystem ${tarball}`);
  } else {
    if (!onPath('mmdebstrap')) {
      if (options['install-tools'] && onPath('apt-get')) aptInstall(['mmdebstrap'], 'npm run image');
      else
        fail(
          'mmdebstrap is not installed: `sudo apt-get install -y mmdebstrap`, or name a base image from a registry with `--base debian:trixie-slim`.',
        );
    }
    mkdirSync(cache, { recursive: true });
    const partial = `${tarball}.partial`;
    run('mmdebstrap', [
      '--variant=minbase',
      '--format=tar',
      '--include=ca-certificates',
      '--quiet',
      SUITE,
      partial,
      ...MIRRORS,
    ]);
    renameSync(partial, tarball);
  }
  const started = Date.now();
  try {
    engine.importRootfs(tarball, BASE_IMAGE);
  } catch (error) {
    fail(`${(error as Error).message.trim()}\n  (--refresh-base makes the root filesystem again)`);
  }
  console.log(`  imported as ${BASE_IMAGE} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return BASE_IMAGE;
}

step('Container engine');
const engine = engineOrInstall();
const version = spawnSync(engine.name, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`  ${version}${engine.canRun ? '' : ' (builds only: the image cannot be run with it)'}`);

step("The controller's bundled /app (packages/controller/dist/app)");
bundle();

step('Base image');
const baseImage = base(engine);

step(`Build ${options.tag}`);
const previous = engine.imageId(options.tag);
run(engine.name, engine.buildArgs(controllerDir, options.tag, { BASE_IMAGE: baseImage }));
// The image the tag named before is left without a name: removed, unless a container still uses it.
const current = engine.imageId(options.tag);
if (previous && current && previous !== current && engine.removeImage(previous))
  console.log(`  removed the previous build (${previous.slice(0, 12)})`);

const size = engine.imageSize(options.tag);
console.log(
  `\n✓ Built ${options.tag} with ${engine.name}${size ? `: ${(size / 1e6).toFixed(0)} MB uncompressed` : ''}.`,
);
