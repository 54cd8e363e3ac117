import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listSessionDirs } from '@wallcrawler/controller';
import { Wallcrawler } from '@wallcrawler/sdk';
import { expectNothingLeft, processesUnder, tempDir, waitFor } from '@wallcrawler/test-support';
import { afterAll, expect, it } from 'vitest';
import WebSocket from 'ws';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const dataDir = tempDir('wallcrawler-restart-');
const apiKey = `wc_test_${randomBytes(16).toString('hex')}`;
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  dataDir.remove();
});

/** Starts `wallcrawler start` as its own process and waits for its banner. */
async function startCli(): Promise<{ child: ChildProcess; url: string; banner: () => string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@wallcrawler/source', 'packages/server/src/cli.ts', 'start'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        WALLCRAWLER_PORT: '0',
        WALLCRAWLER_DATA_DIR: dataDir.path,
        WALLCRAWLER_API_KEY: apiKey,
        WALLCRAWLER_LOG_LEVEL: 'warn',
        // A warm pool, whose idle browsers a SIGKILL orphans as well.
        WALLCRAWLER_POOL_SIZE: '2',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d));
  const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(stderr)?.[1], {
    timeout: 30_000,
    message: `the server banner (stderr so far: ${stderr})`,
  });
  return { child, url, banner: () => stderr };
}

/** The browsers running for this data dir (not zombies), by pid. */
const browserPids = () =>
  new Set(
    processesUnder(dataDir.path)
      .filter((p) => p.state !== 'Z')
      .map((p) => p.pid),
  );

it('ends the browsers of a server killed with SIGKILL at once, and its sessions and directories on the next start', async () => {
  const first = await startCli();
  // The pool's two idle browsers are up, besides the sessions' (each Chromium is several processes).
  await waitFor(() => listSessionDirs(dataDir.path).filter((d) => d.path.includes('/sessions/pool-')).length === 2, {
    timeout: 30_000,
    message: 'the warm pool to fill',
  });
  const sdk = new Wallcrawler({ apiKey, baseURL: first.url });
  const connected = await sdk.sessions.create({ keepAlive: true });
  const idle = await sdk.sessions.create();
  const ws = new WebSocket(connected.connectUrl);
  await new Promise((r) => ws.once('open', r));
  ws.on('error', () => {});

  const exited = new Promise((r) => first.child.once('exit', r));
  first.child.kill('SIGKILL');
  await exited;
  // Its browsers, sessions' and pool's, die with it: each one's subreaper hears of its parent's death. Nothing
  // is left running, unreachable, until a next start that may never come.
  await waitFor(() => browserPids().size === 0, { timeout: 15_000, message: "the dead server's browsers to die" });
  // Their directories stay for the next start, which ends their sessions.
  const orphanDirs = listSessionDirs(dataDir.path).map((d) => d.path);
  // The two sessions took the pool's browsers (whose directories keep the pool's names), and it refilled.
  expect(orphanDirs.filter((d) => d.includes('/sessions/pool-')).length).toBeGreaterThanOrEqual(2);

  const second = await startCli();
  expect(second.banner()).toMatch(/Ended 2 session\(s\) left running by a previous run/);
  const after = new Wallcrawler({ apiKey, baseURL: second.url });
  for (const id of [connected.id, idle.id]) {
    const session = await after.sessions.retrieve(id);
    expect(session.status).toBe('ERROR');
    expect(session.endedAt).toBeDefined();
    expect(session.connectUrl).toBeUndefined();
  }
  // Every directory of the first run is gone (the second run's own pool is new).
  expect(orphanDirs.filter((d) => existsSync(d))).toEqual([]);

  // And the restarted server works.
  const fresh = await after.sessions.create();
  expect(fresh.status).toBe('RUNNING');
  const stopped = new Promise<number | null>((r) => second.child.once('exit', (code) => r(code)));
  second.child.kill('SIGINT');
  expect(await stopped).toBe(0);
  expect(existsSync(`${dataDir.path}/server.pid`)).toBe(false);
  await expectNothingLeft(dataDir.path);
});
