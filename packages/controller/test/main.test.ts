import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { signConnectToken } from '@wallcrawler/contracts';
import { expectNothingLeft, tempDir, waitFor } from '@wallcrawler/test-support';
import puppeteer from 'puppeteer-core';
import { afterAll, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dataDir = tempDir();
afterAll(() => dataDir.remove());

function runMain(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@wallcrawler/source', 'packages/controller/src/task/main.ts'],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

it('runs one session from the environment and exits 0 when it ends', async () => {
  const secret = randomBytes(32);
  const sessionId = randomUUID();
  const expiresAt = new Date(Date.now() + 120_000);
  const main = runMain({
    WALLCRAWLER_SESSION_ID: sessionId,
    WALLCRAWLER_PROJECT_ID: 'project-1',
    WALLCRAWLER_CONNECT_SECRET: secret.toString('base64url'),
    WALLCRAWLER_SESSION_EXPIRES_AT: expiresAt.toISOString(),
    WALLCRAWLER_SESSION_VIEWPORT: '1288x711',
    WALLCRAWLER_CONTROLLER_PORT: '0',
    WALLCRAWLER_DATA_DIR: dataDir.path,
    WALLCRAWLER_DISCONNECT_GRACE_MS: '100',
  });
  const ready = await waitFor(
    () =>
      main
        .stdout()
        .split('\n')
        .find((line) => line.includes('"session ready"')),
    {
      timeout: 30_000,
      message: 'the ready log line',
    },
  );
  const { url } = JSON.parse(ready) as { url: string };
  const token = await signConnectToken(secret, { sessionId, projectId: 'project-1', expiresAt });
  const browser = await puppeteer.connect({
    browserWSEndpoint: `${url.replace('http', 'ws')}/?signingKey=${token}`,
    defaultViewport: null,
  });
  const [page] = await browser.pages();
  expect(await page?.evaluate('[innerWidth, innerHeight]')).toEqual([1288, 711]);
  await browser.disconnect();
  expect(await main.exited).toBe(0);
  expect(main.stdout()).toMatch(/"status":"COMPLETED"/);
  await expectNothingLeft(dataDir.path);
});

it('refuses to start with an invalid environment, listing every problem', async () => {
  const main = runMain({ WALLCRAWLER_SESSION_VIEWPORT: 'big', WALLCRAWLER_CONNECT_SECRET: 'short' });
  expect(await main.exited).toBe(1);
  for (const name of [
    'WALLCRAWLER_SESSION_ID',
    'WALLCRAWLER_CONNECT_SECRET',
    'WALLCRAWLER_SESSION_EXPIRES_AT',
    'WALLCRAWLER_SESSION_VIEWPORT',
  ]) {
    expect(main.stderr()).toContain(name);
  }
});
