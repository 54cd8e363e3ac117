import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectNothingLeft } from '@wallcrawler/test-support';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_PAGE, runStagehandV4Flow, type StagehandV4Report } from '../support/stagehand-v4.js';

/**
 * Stagehand 4.4 (`browserbase.launch` + `Stagehand.create`), unmodified, on the Node 22 it requires (the npm
 * `node` package, installed with it in `compat/stagehand-v4` by `npm test`'s pretest, scripts/prepare-tests.mjs),
 * against a real server and real Chromium. Stagehand 4 uploads its own extension, creates the session with it,
 * checks it is loaded (CDP `Extensions.getExtensions`), and its extension's service worker opens a CDP connection
 * of its own to the same `connectUrl` from inside the browser.
 */

const t = useTestServer();
let pages: Server;
let pageUrl: string;

beforeAll(async () => {
  pages = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end(ORDER_PAGE);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/order`;
});

afterAll(async () => {
  pages?.close();
});

const runFlow = (useAdapter = false) => runStagehandV4Flow({ url: t.url, apiKey: t.apiKey, pageUrl, useAdapter });

describe('Stagehand 4.4 on Node 22 against Wallcrawler', () => {
  let report: StagehandV4Report;

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
