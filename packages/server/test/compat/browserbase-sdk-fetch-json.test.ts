import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Browserbase, { BadRequestError, InternalServerError } from '@browserbasehq/sdk';
import { liveBrowsers } from '@wallcrawler/test-support';
import { ORDER_FORM_PAGE, type ScriptedModel, startScriptedModel } from '@wallcrawler/test-support/scripted-model';
import { startTestServer, type TestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `fetchAPI.create` with `format: "json"`: the page rendered in a session of the project, then its Markdown and the
 * caller's schema sent to the server's model (the scripted model server, which answers from the page it is
 * given), and the object it extracted in the answer. The session has ended, its browser gone, by then.
 */

const MODEL_KEY = `sk-fetch-${randomBytes(8).toString('hex')}`;
const SCHEMA = { type: 'object', properties: { price: { type: 'string' } }, required: ['price'] };
let model: ScriptedModel;
let t: TestServer;
let pages: Server;
let site: string;
let failNext = false;

beforeAll(async () => {
  model = await startScriptedModel({
    apiKey: MODEL_KEY,
    extract: (call) => ({ price: /Price: (\d+ EUR)/.exec(call.user)?.[1] ?? 'not on the page' }),
    fail: () => (failNext ? 503 : undefined),
  });
  t = await startTestServer({
    WALLCRAWLER_MODEL_BASE_URL: model.baseURL,
    WALLCRAWLER_MODEL_NAME: 'scripted-fetch',
    WALLCRAWLER_MODEL_API_KEY: MODEL_KEY,
  });
  pages = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(ORDER_FORM_PAGE);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  site = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  pages?.close();
  await t?.close();
  await model?.close();
});

describe('@browserbasehq/sdk: fetchAPI.create with format json', () => {
  const client = () => new Browserbase({ apiKey: t.apiKey, baseURL: t.url, maxRetries: 0 });

  it("answers what the project's model extracted from the rendered page, by the schema", async () => {
    const answer = await client().fetchAPI.create({ url: `${site}/order`, format: 'json', schema: SCHEMA });
    expect(answer).toMatchObject({
      statusCode: 200,
      content: { price: '42 EUR' },
      contentType: 'application/json',
    });
    const call = model.calls.at(-1);
    expect(call).toMatchObject({ kind: 'extract', api: 'responses', model: 'scripted-fetch', apiKey: MODEL_KEY });
    // The model was given the page as Markdown, not its HTML.
    expect(call?.user).toContain('Price: 42 EUR');
    expect(call?.user).not.toContain('<button');
    expect(liveBrowsers(t.dataDir).size).toBe(0);
    const session = await client().sessions.retrieve(answer.id);
    expect(session.status).toBe('COMPLETED');
  });

  it('refuses json without a schema before it starts a session', async () => {
    const before = (await client().sessions.list()).length;
    const refused = await client()
      .fetchAPI.create({ url: `${site}/order`, format: 'json' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect(((refused as BadRequestError).error as { code: string }).code).toBe('invalid_fetch');
    expect((await client().sessions.list()).length).toBe(before);
  });

  it("answers 502 model_unreachable with the model's status when the model fails, and leaves nothing", async () => {
    failNext = true;
    try {
      const failed = await client()
        .fetchAPI.create({ url: `${site}/order`, format: 'json', schema: SCHEMA })
        .catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(InternalServerError);
      expect((failed as InternalServerError).status).toBe(502);
      expect((failed as InternalServerError).error).toMatchObject({
        code: 'model_unreachable',
        details: [{ path: 'upstream.status', message: '503' }],
      });
    } finally {
      failNext = false;
    }
    expect(liveBrowsers(t.dataDir).size).toBe(0);
  });
});
