/**
 * Vitest global setup: after the whole run, no browser started by any test may still be alive. Each test already
 * checks its own data dir; this catches whatever slips past (a test that forgot, a crashed worker).
 *
 * A run knows its own browsers by place, not by time: the setup points the run's `TMPDIR` at a directory of its
 * own, so every `tempDir()` of the run, every data dir made in one, and so every browser's `--user-data-dir` lie
 * under it. Another vitest run on the machine (a second checkout, a bench) keeps its browsers elsewhere, and this
 * check neither reports nor kills them. Workers are forked after the global setups, so they inherit the `TMPDIR`.
 *
 * Several projects name this setup, and vitest loads it once per project: the run dir and a count of its users
 * live on `globalThis` of the main process, and the last project to finish checks and removes the dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listProcesses } from '@wallcrawler/controller';

interface Shared {
  runDir: string;
  /** `TMPDIR` as the run found it, put back at the end. */
  outerTmpdir: string | undefined;
  users: number;
}

const KEY = Symbol.for('wallcrawler.test-support.leak-check');
const holder = globalThis as { [KEY]?: Shared };

function testBrowsers(runDir: string) {
  const marker = `--user-data-dir=${runDir}/`;
  return listProcesses().filter((p) => p.cmdline.includes(marker) && p.state !== 'Z');
}

export function setup(): () => Promise<void> {
  if (!holder[KEY]) {
    const outerTmpdir = process.env.TMPDIR;
    // Short, directly under the outer temp dir: Chromium's singleton socket path must stay under 108 bytes.
    const runDir = mkdtempSync(join(tmpdir(), 'wc-run-'));
    process.env.TMPDIR = runDir;
    holder[KEY] = { runDir, outerTmpdir, users: 0 };
  }
  const shared = holder[KEY];
  shared.users++;
  return async () => {
    if (--shared.users > 0) return;
    delete holder[KEY];
    const { runDir } = shared;
    // Give teardown in flight a moment, without a fixed sleep when there is nothing to wait for.
    for (let i = 0; i < 50 && testBrowsers(runDir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    const leaked = testBrowsers(runDir);
    for (const p of leaked) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
    if (shared.outerTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = shared.outerTmpdir;
    rmSync(runDir, { recursive: true, force: true, maxRetries: 5 });
    if (leaked.length > 0) {
      // Vitest reports an error thrown here but still exits 0; the exit code is what CI reads.
      process.exitCode = 1;
      throw new Error(
        `The test run left ${leaked.length} browser process(es) behind:\n${leaked.map((p) => `  ${p.pid} ${p.comm} ${p.cmdline.slice(0, 160)}`).join('\n')}`,
      );
    }
  };
}
