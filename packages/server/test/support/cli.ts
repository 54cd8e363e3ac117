/**
 * The real `wallcrawler` CLI, run as a child process from its TypeScript source (the same entry `bin` points at
 * once built).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const NODE_ARGS = ['--import', 'tsx', '--conditions=@wallcrawler/source', CLI];

/** The environment a user would have, minus any Wallcrawler settings of the machine running the tests. */
export function cliEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WALLCRAWLER_')));
  return { ...env, WALLCRAWLER_DATA_DIR: dataDir, ...extra };
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): { child: ChildProcess; output: () => Run; exited: Promise<Run> } {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
    cwd: ROOT,
    env,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const output = (): Run => ({ code: child.exitCode, signal: child.signalCode, stdout, stderr });
  const exited = new Promise<Run>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => resolve(output()));
  });
  return { child, output, exited };
}

/** Runs the CLI with `args` to its end, with `input` on its stdin if given. */
export const cli = (args: string[], env: NodeJS.ProcessEnv, input?: string) => spawnCli(args, env, input).exited;

/** Runs several CLI commands, as many at a time as there are cores (more would only slow each down). */
export async function cliAll(argsList: string[][], env: NodeJS.ProcessEnv): Promise<Run[]> {
  const results: Run[] = [];
  let next = 0;
  const worker = async () => {
    while (next < argsList.length) {
      const i = next++;
      results[i] = await cli(argsList[i] as string[], env);
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), argsList.length) }, worker));
  return results;
}
