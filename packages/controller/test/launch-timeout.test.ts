/**
 * A Chromium that does not open its DevTools port in time (as on a starved host): the start fails with a typed
 * error, is tried once more only when its deadline leaves time for it, and leaves nothing behind either way.
 * The browser here is a wrapper that counts its starts and then hangs, so every wait runs out for certain.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@wallcrawler/contracts';
import { expectNothingLeft, tempDir } from '@wallcrawler/test-support';
import { afterAll, afterEach, expect, it } from 'vitest';
import { BrowserSession, MIN_RETRY_WAIT_MS } from '../src/browser-session.js';
import { ChromiumLaunchTimeoutError } from '../src/chromium/launch-chromium.js';

const dataDir = tempDir();
const bin = tempDir('wallcrawler-hanging-bin-');
const wrapper = join(bin.path, 'chromium');
const starts = join(bin.path, 'starts');
// It hangs with Chromium's arguments on its command line (they name the data dir), so the leak check sees it.
writeFileSync(wrapper, `#!/bin/sh\necho started >> '${starts}'\nexec perl -e 'sleep 600' -- "$@"\n`);
chmodSync(wrapper, 0o755);

afterEach(async () => {
  await expectNothingLeft(dataDir.path);
  writeFileSync(starts, '');
});
afterAll(() => {
  dataDir.remove();
  bin.remove();
});

const startCount = () => (existsSync(starts) ? readFileSync(starts, 'utf8').split('\n').filter(Boolean).length : 0);

function warnings(): Logger & { messages: string[] } {
  const messages: string[] = [];
  const logger: Logger & { messages: string[] } = {
    messages,
    debug: () => {},
    info: () => {},
    warn: (_fields, message) => void messages.push(String(message)),
    error: () => {},
    child: () => logger,
  };
  return logger;
}

const start = (launchTimeoutMs: number, startDeadline: Date | undefined, logger: Logger) =>
  BrowserSession.start({
    id: randomUUID(),
    executablePath: wrapper,
    dataDir: dataDir.path,
    expiresAt: new Date(Date.now() + 60_000),
    keepAlive: false,
    launchTimeoutMs,
    logger,
    ...(startDeadline ? { startDeadline } : {}),
  });

it('starts once more when the deadline leaves time, then fails with the typed error and leaves nothing', async () => {
  const logger = warnings();
  const failure = await start(1_000, new Date(Date.now() + 60_000), logger).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ChromiumLaunchTimeoutError);
  expect((failure as ChromiumLaunchTimeoutError).timeoutMs).toBe(1_000);
  expect((failure as Error).message).toMatch(/did not open its DevTools port within 1000 ms/);
  expect(startCount()).toBe(2);
  expect(logger.messages).toEqual(['Chromium did not start in time; starting it once more']);
});

it('does not start again when too little is left before the deadline, or without one', async () => {
  expect(MIN_RETRY_WAIT_MS).toBeGreaterThan(1_000);
  const soon = warnings();
  // After the first 2 s wait, less than a launch timeout (and less than the minimum) is left.
  const early = await start(2_000, new Date(Date.now() + 2_500), soon).catch((e: unknown) => e);
  expect(early).toBeInstanceOf(ChromiumLaunchTimeoutError);
  expect(startCount()).toBe(1);
  expect(soon.messages).toEqual([]);
  await expectNothingLeft(dataDir.path);

  const none = warnings();
  const undated = await start(1_000, undefined, none).catch((e: unknown) => e);
  expect(undated).toBeInstanceOf(ChromiumLaunchTimeoutError);
  expect(startCount()).toBe(2);
  expect(none.messages).toEqual([]);
});
