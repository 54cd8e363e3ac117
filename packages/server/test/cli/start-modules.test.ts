import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectNothingLeft, tempDir, waitFor } from '@wallcrawler/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script without types, shared with `npm run setup` and `npm test`'s pretest.
import { buildIsCurrent, workspacePackages } from '../../../../scripts/steps.mjs';
import { cliEnv } from '../support/cli.js';

/**
 * Memory at rest: `wallcrawler start` loads only what a serving server uses. The AWS SDK (only the AWS commands
 * and the Lambda functions need it), Stagehand (only its routes), the zip and tar libraries (contexts,
 * extensions) and rrweb (its files are read when a session records, never imported) are not loaded at start,
 * nor by a plain session. Read from the modules the built server really loaded, as users run it.
 */

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = join(ROOT, 'packages/server/dist/cli.js');
const MODULE_LOG_HOOK = fileURLToPath(new URL('../support/module-log.mjs', import.meta.url));
const NOT_AT_REST = [
  /\/@aws-sdk\//,
  /\/@smithy\//,
  /\/@browserbasehq\/stagehand\//,
  /\/rrweb|\/@rrweb\//,
  /\/node_modules\/(tar|yazl|yauzl)\//,
];

const data = tempDir('wallcrawler-start-modules-');
const log = join(data.path, 'modules.log');
const apiKey = `wc_mod_${randomBytes(16).toString('hex')}`;
let stop: (() => Promise<void>) | undefined;
let url = '';

/** Every module the server has loaded so far that an idle server must not load. */
function loadedAtRestViolations(): string[] {
  const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  // The hook works: the server's own store and HTTP framework are in the list.
  expect(loaded.some((m) => m.includes('/@libsql/client/'))).toBe(true);
  expect(loaded.some((m) => m.includes('/hono/'))).toBe(true);
  return [...new Set(loaded.filter((m) => NOT_AT_REST.some((pattern) => pattern.test(m))))];
}

beforeAll(async () => {
  const packages = workspacePackages() as Map<string, { manifest: { module: string } }>;
  const runs = ['@wallcrawler/contracts', '@wallcrawler/controller', '@wallcrawler/server'].map((n) => packages.get(n));
  if (!buildIsCurrent(runs, (manifest: { module: string }) => manifest.module)) {
    throw new Error(
      'This test runs the built server, which is missing or older than the sources: run `npm run build`.',
    );
  }
  const dataDir = join(data.path, 'data');
  const child = spawn(process.execPath, ['--import', MODULE_LOG_HOOK, CLI, 'start'], {
    cwd: ROOT,
    env: cliEnv(dataDir, {
      WALLCRAWLER_PORT: '0',
      WALLCRAWLER_API_KEY: apiKey,
      WALLCRAWLER_POOL_SIZE: '0',
      WALLCRAWLER_TEST_MODULE_LOG: log,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await expectNothingLeft(dataDir);
  };
  url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output}`);
      return /is listening on (http:\/\/\S+)/.exec(output)?.[1];
    },
    { timeout: 30_000, message: 'the server to listen' },
  );
});

afterAll(async () => {
  await stop?.();
  data.remove();
});

describe('wallcrawler start, at rest', () => {
  it('has loaded no AWS SDK, Stagehand, rrweb, zip or tar module once serving', () => {
    expect(loadedAtRestViolations()).toEqual([]);
  });

  it('still has not after a session came and went', async () => {
    const headers = { 'x-wc-api-key': apiKey, 'content-type': 'application/json' };
    const created = await fetch(`${url}/v1/sessions`, { method: 'POST', headers, body: '{}' });
    const session = (await created.json()) as { id: string };
    expect(created.status, JSON.stringify(session)).toBe(201);
    const released = await fetch(`${url}/v1/sessions/${session.id}`, {
      method: 'POST',
      headers,
      body: '{"status":"REQUEST_RELEASE"}',
    });
    expect(released.status).toBe(200);
    expect(loadedAtRestViolations()).toEqual([]);
  });
});
