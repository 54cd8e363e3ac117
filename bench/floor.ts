/**
 * The floor: the same Chromium binary with the same flags Wallcrawler gives a session (`chromiumFlags`), spawned
 * directly by the bench — no server, no subreaper, no proxy. It is what a session cannot get cheaper than.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_VIEWPORT } from '@wallcrawler/contracts';
import { chromiumFlags } from '@wallcrawler/controller';
import { onCleanup, throwIfAborted } from './cleanup.js';
import { groupAlive } from './procfs.js';
import { sleep } from './progress.js';
import { watchStderr } from './stderr-watch.js';

export interface FloorBrowser {
  pid: number;
  /** The browser's DevTools WebSocket URL, from its stderr. */
  wsUrl: string;
  /** The dirs it uses (profile and TMPDIR), under one root. */
  root: string;
  /** SIGKILL the process group, wait for Chromium's exit and the group to empty, delete the dirs. */
  teardown(): Promise<void>;
}

const DEVTOOLS_LINE = /DevTools listening on (ws:\/\/\S+)/;

/** Spawns Chromium and resolves once it printed its DevTools URL. */
export async function launchFloor(chromePath: string, parentDir: string): Promise<FloorBrowser> {
  throwIfAborted();
  const root = await mkdtemp(join(parentDir, 'floor-'));
  const userDataDir = join(root, 'profile');
  const tmpDir = join(root, 'tmp');
  await Promise.all([mkdir(userDataDir), mkdir(tmpDir)]);
  const args = chromiumFlags({ userDataDir, viewport: DEFAULT_VIEWPORT, noSandbox: process.getuid?.() === 0 });
  // Like a session's browser: TMPDIR is its own directory (shared-memory files land there with --disable-dev-shm-usage).
  const child = spawn(chromePath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TMPDIR: tmpDir },
  });
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });

  let tornDown: Promise<void> | undefined;
  const teardown = () => {
    tornDown ??= (async () => {
      if (pid) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {}
        await exited;
        // Its helpers (zygotes, utility processes) are in the same group; they die with it, a moment later.
        for (let i = 0; i < 1000 && groupAlive(pid); i++) await sleep(2);
      }
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
    })();
    return tornDown;
  };
  const unregister = onCleanup(`floor chromium ${pid}`, teardown);

  const stderr = watchStderr(child, 4096);
  try {
    const wsUrl = await stderr.match(DEVTOOLS_LINE, 30_000, 'Chromium printed no DevTools URL');
    return {
      pid: pid as number,
      wsUrl,
      root,
      teardown: async () => {
        await teardown();
        unregister();
      },
    };
  } catch (error) {
    await teardown();
    unregister();
    throw error;
  }
}
