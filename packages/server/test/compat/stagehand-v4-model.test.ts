import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectNothingLeft } from '@wallcrawler/test-support';
import { ORDER_FORM_PAGE, type ScriptedModel, startScriptedModel } from '@wallcrawler/test-support/scripted-model';
import { startTestServer, type TestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_PAGE, runStagehandV4Flow, type StagehandV4Report } from '../support/stagehand-v4.js';

/**
 * Stagehand 4.4, unmodified on Node 22, with NO model configured in the client: its extension's `observe`, `act`
 * and `extract` send their inference to Wallcrawler's `POST /v1/llm/responses`, which forwards it to the server's
 * model (`WALLCRAWLER_MODEL_*`, here the scripted model server, reading Stagehand's own prompts).
 */

const MODEL_KEY = `sk-v4-${randomBytes(8).toString('hex')}`;
let model: ScriptedModel;
let t: TestServer;
let pages: Server;
let pagesUrl: string;

beforeAll(async () => {
  model = await startScriptedModel({
    apiKey: MODEL_KEY,
    extract: (call) => ({ extraction: /Price: (\d+ EUR)/.exec(call.user)?.[1] ?? '' }),
  });
  t = await startTestServer({
    WALLCRAWLER_MODEL_BASE_URL: model.baseURL,
    WALLCRAWLER_MODEL_NAME: 'scripted-v4',
    WALLCRAWLER_MODEL_API_KEY: MODEL_KEY,
  });
  pages = createServer((request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end(request.url === '/form' ? ORDER_FORM_PAGE : ORDER_PAGE);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  pages?.close();
  await t?.close();
  await model?.close();
});

describe('Stagehand 4.4 with no model in the client, through the model gateway', () => {
  let report: StagehandV4Report;

  it('observes, acts and extracts on a page', { timeout: 180_000 }, async () => {
    report = await runStagehandV4Flow({
      url: t.url,
      apiKey: t.apiKey,
      pageUrl: `${pagesUrl}/order`,
      aiPageUrl: `${pagesUrl}/form`,
    });
    expect(report.node).toMatch(/^v22\./);
    expect(report.observed).toEqual([expect.objectContaining({ method: 'click' })]);
    expect(report.observed?.[0]?.description).toMatch(/save/i);
    expect(report.acted).toEqual([true, true]);
    expect(report.formTitle).toBe('Saved Ada');
    expect(report.extracted).toEqual({ extraction: '42 EUR' });
  });

  it("sent every inference to the server's model, as its model, with its key", () => {
    const kinds = model.calls.map((call) => call.kind);
    expect(kinds).toEqual(expect.arrayContaining(['observe', 'act', 'act', 'extract', 'metadata']));
    for (const call of model.calls)
      expect(call).toMatchObject({ api: 'responses', model: 'scripted-v4', apiKey: MODEL_KEY });
  });

  it('released the session, and leaves no process or directory behind', async () => {
    expect(await t.store.getSession(report.sessionId)).toMatchObject({ status: 'COMPLETED' });
    await expectNothingLeft(t.dataDir);
  });
});
