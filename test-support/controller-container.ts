/**
 * The controller's real image (built by `npm run image`) run by this machine's container engine, for the image's
 * tests (`packages/controller/test/image`) and its bench (`bench/image.ts`). Every container gets a label of the
 * caller's, so whatever a run started can be found and removed at its end, even after a crash.
 *
 * Containers share the host's network (`--network host`): the controller listens where the host's clients reach
 * it, and reaches the host's page server, DynamoDB Local and local ECS endpoint on loopback, as a Fargate task
 * reaches its VPC.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import type { LocalTaskDefinition } from './local-ecs.js';

/** What a container engine is to these helpers (scripts/container-engine.ts). */
export interface Engine {
  name: string;
  runArgs(): string[];
  args(...rest: string[]): string[];
}

export interface RunningContainer {
  name: string;
  process: ChildProcess;
  /** Everything the container wrote so far (stdout and stderr). */
  output(): string;
  /** The container's exit code, once `run` returns. */
  exited: Promise<number | null>;
}

/** Variables a task's process gets from the local ECS endpoint that are the host's, not the container's. */
const HOST_ONLY = new Set(['PATH', 'HOME', 'TMPDIR', 'WALLCRAWLER_DATA_DIR', 'WALLCRAWLER_CHROME_PATH']);
/** What the local ECS endpoint adds to every task's environment, as Fargate gives it to a container. */
const FROM_THE_AGENT = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL_ECS',
  'AWS_ENDPOINT_URL_EC2',
  'ECS_CONTAINER_METADATA_URI_V4',
  'ECS_AGENT_URI',
];

/** The engine's `run` of the image, attached (its exit code is the container's), with `env` set inside. */
export function runArgs(engine: Engine, image: string, label: string, env: Record<string, string>): string[] {
  return [
    ...engine.runArgs(),
    '--rm',
    '--network',
    'host',
    '--label',
    `wallcrawler.test=${label}`,
    ...Object.entries(env).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
    image,
  ];
}

/** Starts the image with this environment; `run` stays attached, so SIGTERM to it reaches the container. */
export function runContainer(
  engine: Engine,
  image: string,
  label: string,
  env: Record<string, string>,
): RunningContainer {
  const name = `wc-${label}-${Math.random().toString(36).slice(2, 8)}`;
  const args = runArgs(engine, image, label, env);
  args.splice(args.indexOf('--rm'), 0, '--name', name);
  const child = spawn(engine.name, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d));
  child.stderr?.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, process: child, output: () => output, exited };
}

/**
 * The local ECS endpoint's task, run in the image instead of as a process: its command becomes the engine's
 * `run`, which passes the container the task's environment by name (`--env NAME` takes the value `run` was
 * given), except what is the host's (its PATH, HOME, TMPDIR, data dir and Chromium). SIGTERM from the endpoint's
 * stop reaches the container through `run`.
 */
export function inContainer(
  engine: Engine,
  image: string,
  label: string,
): (container: LocalTaskDefinition['container']) => LocalTaskDefinition['container'] {
  return (container) => {
    const names = [...Object.keys(container.environment), ...FROM_THE_AGENT].filter((n) => !HOST_ONLY.has(n));
    const args = runArgs(engine, image, label, {});
    args.splice(args.indexOf(image), 0, ...[...new Set(names)].flatMap((n) => ['--env', n]));
    return { ...container, command: [engine.name, ...args] };
  };
}

/** The containers with this label, running or not. */
export function labelled(engine: Engine, label: string): string[] {
  const result = spawnSync(
    engine.name,
    engine.args('ps', '--all', '--quiet', '--filter', `label=wallcrawler.test=${label}`),
    { encoding: 'utf8' },
  );
  return result.stdout.split('\n').filter(Boolean);
}

/** Removes every container with this label (at once: SIGKILL); returns the ones there were. */
export function removeLabelled(engine: Engine, label: string): string[] {
  const ids = labelled(engine, label);
  if (ids.length > 0) spawnSync(engine.name, engine.args('rm', '--force', '--time', '0', ...ids), { stdio: 'ignore' });
  return ids;
}
