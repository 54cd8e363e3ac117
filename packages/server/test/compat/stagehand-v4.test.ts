import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expectNothingLeft } from '@wallcrawler/test-support';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Stagehand 4.4 (`browserbase.launch` + `Stagehand.create`), unmodified, on the Node 22 it requires (the npm
 * `node` package, installed with it in `compat/stagehand-v4` by `npm test`'s pretest, scripts/prepare-tests.mjs),
 * against a real server and real Chromium. Stagehand 4 uploads its own extension, creates the session with it,
 * checks it is loaded (CDP `Extensions.getExtensions`), and its extension's service worker opens a CDP connection
 * of its own to the same `connectUrl` from inside the browser.
 */

const COMPAT = fileURLToPath(new URL('../../../../compat/stagehand-v4/', import.meta.url));

const t = useTestServer();
let pages: Server;
let pageUrl: string;

beforeAll(async () => {
  pages = createServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        '<!doctype html><title>Order</title><p id="price">Price: 42 EUR</p><button id="save" onclick="document.title=\'Saved\'">Save</button>',
      );
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/order`;
});

afterAll(async () => {
  pages?.close();
});

interface Report {
  node: string;
  sessionId: string;
  title: string;
  price: string;
  clickedTitle: string;
}

function runFlow(useAdapter = false): Promise<Report> {
  const child = spawn(`${COMPAT}node_modules/.bin/node`, [`${COMPAT}flow.mjs`], {
    cwd: COMPAT,
    env: {
      PATH: process.env.PATH,
      WALLCRAWLER_URL: t.url,
      WALLCRAWLER_API_KEY: t.apiKey,
      PAGE_URL: pageUrl,
      ...(useAdapter ? { USE_ADAPTER: '1' } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`Stagehand 4 flow exited ${code}:\n${stdout}\n${stderr}`));
      else resolve(JSON.parse(line) as Report);
    });
  });
}

describe('Stagehand 4.4 on Node 22 against Wallcrawler', () => {
  let report: Report;

  it('launches (uploading its extension), connects, and drives a page', { timeout: 120_000 }, async () => {
    report = await runFlow();
    expect(report.node).toMatch(/^v22\./);
    expect(report).toMatchObject({ title: 'Order', price: 'Price: 42 EUR', clickedTitle: 'Saved' });
  });

  it('created the session with the uploaded extension and its metadata', async () => {
    const session = await t.store.getSession(report.sessionId);
    expect(session?.extensionId).toMatch(/.+/);
    expect(session?.userMetadata).toMatchObject({
      run: 'stagehand-v4',
      stagehand: 'true',
      stagehand_sdk_language: 'typescript',
      stagehand_sdk_version: '4.4.0',
    });
  });

  it('close() released the session and deleted the extension', async () => {
    const session = await t.store.getSession(report.sessionId);
    expect(session).toMatchObject({ status: 'COMPLETED', endReason: 'The session was released' });
    const extension = await fetch(`${t.url}/v1/extensions/${session?.extensionId}`, {
      headers: { 'x-bb-api-key': t.apiKey },
    });
    expect(extension.status).toBe(404);
  });

  it('does the same through @wallcrawler/stagehand-adapter (launch, stagehandOptions)', {
    timeout: 120_000,
  }, async () => {
    const adapted = await runFlow(true);
    expect(adapted).toMatchObject({ title: 'Order', price: 'Price: 42 EUR', clickedTitle: 'Saved' });
    expect(await t.store.getSession(adapted.sessionId)).toMatchObject({ status: 'COMPLETED' });
  });

  it('leaves no process or directory behind', async () => {
    await expectNothingLeft(t.dataDir);
  });
});
