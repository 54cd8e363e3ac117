import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectNothingLeft, tempDir, waitFor } from '@wallcrawler/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script without types, shared with `npm run setup` and `npm test`'s pretest.
import { buildIsCurrent, workspacePackages } from '../../../../scripts/steps.mjs';
import { SqliteStore } from '../../src/adapters/sqlite/sqlite-store.js';

/**
 * `npm start` as a process supervisor (or `docker stop`, to PID 1) stops it: a signal to npm's pid only, not
 * to its process group. npm forwards SIGTERM and SIGINT to its child, which must be the server itself, not a
 * shell that dies of it; SIGHUP it does not forward, and dies of, so the server must notice npm is gone.
 * Either way every session ends through the close path, and nothing of the server or its browsers is left.
 * This runs the built server, as `npm start` does: `npm test`'s pretest builds it.
 */

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const children: ChildProcess[] = [];

beforeAll(() => {
  const packages = workspacePackages() as Map<string, { manifest: { module: string } }>;
  const runs = ['@wallcrawler/controller', '@wallcrawler/server'].map((name) => packages.get(name));
  if (!buildIsCurrent(runs, (manifest: { module: string }) => manifest.module)) {
    throw new Error('`npm start` runs the build, which is missing or older than the sources: run `npm run build`.');
  }
});

afterAll(() => {
  // Only if a test failed half-way: what is left of the process groups this file started.
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** `npm start` in the repository, in a process group of its own, on a free port and a fresh data dir. */
async function npmStart(dataDir: string, apiKey: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WALLCRAWLER_')));
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      ...env,
      WALLCRAWLER_DATA_DIR: dataDir,
      WALLCRAWLER_PORT: '0',
      WALLCRAWLER_API_KEY: apiKey,
      // One warm-pool browser, so that the pool's browsers are seen to go too.
      WALLCRAWLER_POOL_SIZE: '1',
      WALLCRAWLER_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  // npm's own exit; the server shares its stdout and stderr, so they close once both are gone.
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
      return /is listening on (http:\/\/\S+)/.exec(output)?.[1];
    },
    { timeout: 30_000, message: 'npm start to listen' },
  );
  return { pid: child.pid as number, url, exited, closed, output: () => output };
}

async function createSession(url: string, apiKey: string): Promise<string> {
  const response = await fetch(`${url}/v1/sessions`, {
    method: 'POST',
    headers: { 'x-wc-api-key': apiKey, 'content-type': 'application/json' },
    body: '{"keepAlive":true}',
  });
  const body = (await response.json()) as { id: string };
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body.id;
}

/** Whether any process of the group led by `pid` is still there (zombies included). */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What must hold once the server stopped: its sessions ended and recorded, and nothing of it left. */
async function expectStoppedThroughClosePath(
  started: Awaited<ReturnType<typeof npmStart>>,
  dataDir: string,
  sessionId: string,
) {
  await waitFor(() => !groupAlive(started.pid), {
    timeout: 30_000,
    message: `npm's process group (npm, the server) to be gone:\n${started.output()}`,
  });
  await started.closed;
  await expect(fetch(`${started.url}/health`)).rejects.toThrow();
  const store = await SqliteStore.open(join(dataDir, 'wallcrawler.db'));
  try {
    expect(await store.getSession(sessionId)).toMatchObject({
      status: 'COMPLETED',
      endReason: 'The server shut down',
      endedAt: expect.any(Date),
    });
  } finally {
    await store.close();
  }
  await expectNothingLeft(dataDir);
}

const CASES = [
  {
    name: 'SIGTERM to npm’s pid (a supervisor, docker stop): npm hands it to the server, and exits 0',
    signal: 'SIGTERM',
    to: 'npm',
    exit: { code: 0, signal: null },
    stopping: 'Stopping (SIGTERM): ending sessions',
  },
  {
    name: 'SIGINT to the process group (Ctrl-C): the server gets it twice, from the terminal and from npm, and stops once',
    signal: 'SIGINT',
    to: 'group',
    exit: { code: 0, signal: null },
    stopping: 'Stopping (SIGINT): ending sessions',
  },
  {
    name: 'SIGHUP to npm’s pid, which npm does not forward and dies of: the server sees npm gone and stops',
    signal: 'SIGHUP',
    to: 'npm',
    exit: { code: null, signal: 'SIGHUP' },
    stopping: 'Stopping (the npm that started it went away): ending sessions',
  },
] as const;

describe('npm start, stopped by a signal', () => {
  it.each(CASES)('$name', async ({ signal, to, exit, stopping }) => {
    const data = tempDir('wallcrawler-npm-start-');
    try {
      const apiKey = `wc_npm_${randomBytes(16).toString('hex')}`;
      const started = await npmStart(data.path, apiKey);
      const sessionId = await createSession(started.url, apiKey);
      process.kill(to === 'npm' ? started.pid : -started.pid, signal);
      expect(await started.exited, started.output()).toEqual(exit);
      await expectStoppedThroughClosePath(started, data.path, sessionId);
      expect(started.output()).toContain(stopping);
      expect(started.output()).not.toContain('Stopping at once');
    } finally {
      data.remove();
    }
  });
});
