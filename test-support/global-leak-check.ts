/**
 * Vitest global setup: after the whole run, no browser started by any test may still be alive. Each test already
 * checks its own data dir; this catches whatever slips past (a test that forgot, a crashed worker).
 */
import { tmpdir } from 'node:os';
import { listProcesses } from '@wallcrawler/controller';

/**
 * Test data dirs are made with `tempDir()` under the OS temp dir, named `wallcrawler-*`; the local ECS
 * endpoint's tasks keep theirs under `wc-ecs-*`.
 */
function testBrowsers() {
  const markers = ['wallcrawler-', 'wc-ecs-'].map((prefix) => `--user-data-dir=${tmpdir()}/${prefix}`);
  return listProcesses().filter((p) => markers.some((m) => p.cmdline.includes(m)) && p.state !== 'Z');
}

export function setup(): () => Promise<void> {
  const before = new Set(testBrowsers().map((p) => p.pid));
  return async () => {
    // Give teardown in flight a moment, without a fixed sleep when there is nothing to wait for.
    for (let i = 0; i < 50 && testBrowsers().some((p) => !before.has(p.pid)); i++)
      await new Promise((r) => setTimeout(r, 100));
    const leaked = testBrowsers().filter((p) => !before.has(p.pid));
    if (leaked.length > 0) {
      for (const p of leaked) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {}
      }
      // Vitest reports an error thrown here but still exits 0; the exit code is what CI reads.
      process.exitCode = 1;
      throw new Error(
        `The test run left ${leaked.length} browser process(es) behind:\n${leaked.map((p) => `  ${p.pid} ${p.comm} ${p.cmdline.slice(0, 160)}`).join('\n')}`,
      );
    }
  };
}
