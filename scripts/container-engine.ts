/**
 * The container engine this machine has, and how to drive it: `npm run image` (scripts/image.ts) builds with it,
 * and the image's tests and bench run the image with it. Docker when its daemon answers, else Podman, else
 * Buildah (which builds but does not run containers). `WALLCRAWLER_CONTAINER_ENGINE` picks one by name.
 *
 * Podman needs a few defaults changed on machines like the CI's (a sandbox with hybrid cgroups, no systemd, and
 * hard limits below Podman's default ulimits); each is harmless elsewhere, so they are always given:
 * - builds use `--isolation chroot` (the default OCI isolation fails at the first RUN: "cgroups in hybrid mode
 *   not supported") and `--format docker` (the OCI format drops HEALTHCHECK);
 * - containers run with runc and the cgroupfs manager (crun fails like the build), when runc is installed;
 * - `--ulimit nofile/nproc` within this process's hard limits, at most 16,384 (Podman's defaults exceed them,
 *   and the runtime's setrlimit then fails).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export type EngineName = 'docker' | 'podman' | 'buildah';

export interface ContainerEngine {
  name: EngineName;
  /** Docker and Podman run containers; Buildah only builds. */
  canRun: boolean;
  /** The arguments of a build of `context` into `tag`. */
  buildArgs(context: string, tag: string, buildArgs: Record<string, string>): string[];
  /** The arguments up to and including `run`, with what this machine needs; the caller adds its own. */
  runArgs(): string[];
  /** The arguments of any other subcommand (`ps`, `rm`, `stop`, `inspect`…). */
  args(...rest: string[]): string[];
  /** Whether the engine has an image of this name. */
  hasImage(tag: string): boolean;
  /** Makes an image of a root filesystem's tarball. */
  importRootfs(tarball: string, tag: string): void;
  /** The image's id (undefined when there is none of this name). */
  imageId(tag: string): string | undefined;
  /** Removes an image by id, when no container uses it; whether it could. */
  removeImage(id: string): boolean;
  /** The image's uncompressed size in bytes (undefined when the engine cannot say). */
  imageSize(tag: string): number | undefined;
}

const onPath = (name: string) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return Boolean(dir);
    } catch {
      return false;
    }
  });

const quiet = (command: string, args: string[], timeout = 30_000) =>
  spawnSync(command, args, { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });

/** Runs a command quietly; its stdout, or an error with its stderr. */
export function output(command: string, args: string[]): string {
  const result = quiet(command, args, 120_000);
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}): ${result.stderr}`);
  return result.stdout;
}

/** This shell's hard limit for `ulimit` flag `-n` or `-u` (undefined when unlimited or unknown). */
function hardLimit(flag: '-n' | '-u'): number | undefined {
  const value = Number(quiet('sh', ['-c', `ulimit -H ${flag}`]).stdout.trim());
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** The image commands Docker and Podman share (their CLIs agree on these). */
function imageCommands(
  bin: 'docker' | 'podman',
): Pick<ContainerEngine, 'imageId' | 'removeImage' | 'importRootfs' | 'imageSize'> {
  return {
    imageId: (tag) => quiet(bin, ['image', 'inspect', '--format', '{{.Id}}', tag]).stdout.trim() || undefined,
    removeImage: (id) => quiet(bin, ['rmi', id]).status === 0,
    importRootfs: (tarball, tag) => void output(bin, ['import', tarball, tag]),
    imageSize: (tag) => Number(output(bin, ['image', 'inspect', '--format', '{{.Size}}', tag]).trim()),
  };
}

/** The most open files and processes a container gets here (Fargate's default open files: 65,535). */
const ULIMIT_CAP = 16_384;

function podman(): ContainerEngine {
  const global = onPath('runc') ? ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs'] : [];
  // Capped as well: this sandbox refuses some values below its hard limits (nproc 65536 under a hard 96367).
  const ulimits = (
    [
      ['nofile', hardLimit('-n')],
      ['nproc', hardLimit('-u')],
    ] as const
  ).flatMap(([name, limit]) => {
    const value = Math.min(limit ?? ULIMIT_CAP, ULIMIT_CAP);
    return ['--ulimit', `${name}=${value}:${value}`];
  });
  return {
    name: 'podman',
    canRun: true,
    buildArgs: (context, tag, buildArgs) => [
      ...global,
      'build',
      '--isolation',
      'chroot',
      '--format',
      'docker',
      '--network',
      'host',
      ...Object.entries(buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      '-t',
      tag,
      context,
    ],
    runArgs: () => [...global, 'run', ...ulimits],
    args: (...rest) => [...global, ...rest],
    hasImage: (tag) => quiet('podman', ['image', 'exists', tag]).status === 0,
    ...imageCommands('podman'),
  };
}

function docker(): ContainerEngine {
  return {
    name: 'docker',
    canRun: true,
    buildArgs: (context, tag, buildArgs) => [
      'build',
      ...Object.entries(buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      '-t',
      tag,
      context,
    ],
    runArgs: () => ['run'],
    args: (...rest) => rest,
    hasImage: (tag) => quiet('docker', ['image', 'inspect', tag]).status === 0,
    ...imageCommands('docker'),
  };
}

function buildah(): ContainerEngine {
  return {
    name: 'buildah',
    canRun: false,
    buildArgs: (context, tag, buildArgs) => [
      'build',
      '--isolation',
      'chroot',
      '--format',
      'docker',
      '--network',
      'host',
      ...Object.entries(buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      '-t',
      tag,
      context,
    ],
    runArgs: () => {
      throw new Error('Buildah builds images but does not run containers: install Podman or Docker');
    },
    args: (...rest) => rest,
    hasImage: (tag) => quiet('buildah', ['inspect', '--type', 'image', tag]).status === 0,
    imageId: (tag) =>
      quiet('buildah', ['inspect', '--type', 'image', '--format', '{{.FromImageID}}', tag]).stdout.trim() || undefined,
    removeImage: (id) => quiet('buildah', ['rmi', id]).status === 0,
    importRootfs: (tarball, tag) => {
      const container = output('buildah', ['from', 'scratch']).trim();
      try {
        output('buildah', ['add', container, tarball, '/']);
        output('buildah', ['commit', container, tag]);
      } finally {
        quiet('buildah', ['rm', container]);
      }
    },
    imageSize: (tag) => {
      // Buildah says it in words ("756 MB", decimal units).
      const [image] = JSON.parse(output('buildah', ['images', '--json', tag])) as { size?: unknown }[];
      const [, value, unit] = /^([\d.]+)\s*(B|kB|MB|GB)$/.exec(String(image?.size)) ?? [];
      const scale = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[unit as 'B'];
      return value && scale ? Number(value) * scale : undefined;
    },
  };
}

const ENGINES: Record<EngineName, () => ContainerEngine> = { docker, podman, buildah };

/** Whether an engine of this name is installed and usable (Docker: its daemon answers). */
function usable(name: EngineName): boolean {
  if (!onPath(name)) return false;
  return quiet(name, name === 'docker' ? ['info'] : ['--version'], 15_000).status === 0;
}

/** The engine to use, or undefined when none is installed (or the one named in the environment is not). */
export function detectEngine(): ContainerEngine | undefined {
  const wanted = process.env.WALLCRAWLER_CONTAINER_ENGINE as EngineName | undefined;
  if (wanted) {
    if (!(wanted in ENGINES)) throw new Error(`WALLCRAWLER_CONTAINER_ENGINE must be docker, podman or buildah`);
    return usable(wanted) ? ENGINES[wanted]() : undefined;
  }
  const name = (['docker', 'podman', 'buildah'] as const).find(usable);
  return name ? ENGINES[name]() : undefined;
}

/** The controller image's name, as `npm run image` tags it. */
export const CONTROLLER_IMAGE = 'localhost/wallcrawler-controller:latest';
