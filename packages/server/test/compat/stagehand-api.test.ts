import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Stagehand } from '@browserbasehq/stagehand';
import { expectNothingLeft, waitFor } from '@wallcrawler/test-support';
import { ORDER_FORM_PAGE, type ScriptedModel, startScriptedModel } from '@wallcrawler/test-support/scripted-model';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

/**
 * Stagehand 3 in its default mode (the hosted Stagehand API) pointed at Wallcrawler with `STAGEHAND_API_URL` and
 * `BROWSERBASE_BASE_URL`: `act`, `extract`, `observe` and `page.goto` run on the server, whose own Stagehand asks
 * the scripted model server named by `model.baseURL`, with the key from `x-model-api-key`.
 */

const MODEL_KEY = `sk-test-${'k'.repeat(24)}-model-secret`;

const t = useTestServer();
let model: ScriptedModel;
let pages: Server;
let pageUrl: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  model = await startScriptedModel({
    apiKey: MODEL_KEY,
    extract: (call) => {
      const price = /Price: (\d+) EUR/.exec(call.user)?.[1] ?? '';
      return { price, currency: 'EUR' };
    },
    // The agent's script: type, click, say it is done; then the forced `done` call Stagehand makes to finish.
    agent: (_call, step, tools) => {
      if (tools.length === 1 && tools[0] === 'done') {
        return { tool: 'done', args: { reasoning: 'Typed the name and saved the form.', taskComplete: true } };
      }
      if (step === 0) return { tool: 'act', args: { action: 'type "Bob" into the "Name" textbox' } };
      if (step === 1) return { tool: 'act', args: { action: 'click the "Save" button' } };
      return { text: 'The name is typed and the form is saved.' };
    },
  });
  pages = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end(ORDER_FORM_PAGE);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/order`;
  Object.assign(process.env, {
    BROWSERBASE_API_KEY: t.apiKey,
    BROWSERBASE_BASE_URL: t.url,
    STAGEHAND_API_URL: t.url,
  });
  delete process.env.BROWSERBASE_PROJECT_ID;
});

afterAll(async () => {
  process.env = savedEnv;
  pages?.close();
  await model?.close();
});

const logs: string[] = [];
const newStagehand = (apiKey = MODEL_KEY) =>
  new Stagehand({
    env: 'BROWSERBASE',
    model: { modelName: 'openai/gpt-4.1-mini', apiKey, baseURL: model.baseURL },
    verbose: 1,
    disablePino: true,
    logger: (line) => logs.push(line.message),
  });

describe('Stagehand 3.7 in API mode against Wallcrawler', () => {
  let stagehand: Stagehand;
  let sessionId: string;

  it('starts a session through /v1/sessions/start and connects to it', async () => {
    stagehand = newStagehand();
    await stagehand.init();
    sessionId = stagehand.browserbaseSessionID ?? '';
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const session = await t.store.getSession(sessionId);
    expect(session).toMatchObject({ status: 'RUNNING', userMetadata: { stagehand: 'true' } });
    expect(session?.viewport).toEqual({ width: 1288, height: 711 });
  });

  it('navigates on the server (page.goto goes through /navigate), with a real response', async () => {
    const page = stagehand.context.pages()[0];
    if (!page) throw new Error('no page');
    const response = await page.goto(pageUrl);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Order');
  });

  it('observes: the real Stagehand prompt reaches the model, and the element comes back', async () => {
    const actions = await stagehand.observe('find the "Save" button');
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ method: 'click', description: expect.stringContaining('Save') });
    expect(actions[0]?.selector).toMatch(/^xpath=/);
    const call = model.calls.at(-1);
    expect(call).toMatchObject({ kind: 'observe', api: 'responses', model: 'gpt-4.1-mini', apiKey: MODEL_KEY });
    expect(call?.user).toContain('button: Save');
  });

  it('acts on the page the client is on: fills the input, then clicks the button', async () => {
    const filled = await stagehand.act('type "Ada" into the "Name" textbox');
    expect(filled.success).toBe(true);
    const clicked = await stagehand.act('click the "Save" button');
    expect(clicked).toMatchObject({ success: true, actions: [expect.objectContaining({ method: 'click' })] });
    const page = stagehand.context.pages()[0];
    await waitFor(async () => (await page?.title()) === 'Saved Ada', { message: 'the click to reach the page' });
  });

  it('extracts with a zod schema (sent as JSON schema, rebuilt on the server)', async () => {
    const result = await stagehand.extract(
      'the price and its currency',
      z.object({ price: z.string(), currency: z.string() }),
    );
    expect(result).toMatchObject({ price: '42', currency: 'EUR' });
    expect(model.calls.some((c) => c.kind === 'extract' && c.user.includes('Price: 42 EUR'))).toBe(true);
  });

  it("runs Stagehand's agent loop on the server, against the client's model, streaming its steps", {
    timeout: 60_000,
  }, async () => {
    const page = stagehand.context.pages()[0];
    await page?.goto(pageUrl);
    const before = logs.length;
    const agent = stagehand.agent({
      model: { modelName: 'openai/gpt-4.1-mini', apiKey: MODEL_KEY, baseURL: model.baseURL },
    });
    const result = await agent.execute({ instruction: 'Save the form with the name "Bob"', maxSteps: 5 });
    expect(result).toMatchObject({ success: true, completed: true });
    expect(result.actions.filter((a) => a.type === 'act')).toHaveLength(2);
    await waitFor(async () => (await page?.title()) === 'Saved Bob', {
      message: "the agent's click to reach the page",
    });
    // Each step's tool call reached the client's logger while the call ran.
    expect(logs.slice(before).some((line) => /act/i.test(line))).toBe(true);
    expect(model.calls.filter((c) => c.kind === 'agent').length).toBeGreaterThanOrEqual(3);
    expect(model.calls.filter((c) => c.kind === 'agent').every((c) => c.apiKey === MODEL_KEY)).toBe(true);
  });

  it('streams the server-side log lines to the client logger', () => {
    expect(logs.some((line) => /observ|act|extract/i.test(line))).toBe(true);
  });

  it('reports the calls and their token usage as metrics (/replay)', async () => {
    const metrics = await stagehand.metrics;
    expect(metrics.actPromptTokens).toBeGreaterThan(0);
    expect(metrics.observePromptTokens).toBeGreaterThan(0);
    expect(metrics.extractPromptTokens).toBeGreaterThan(0);
  });

  it('a wrong model key is an error for that call only; the session survives', async () => {
    await expect(
      stagehand.act('click the "Save" button', {
        model: { modelName: 'openai/gpt-4.1-mini', apiKey: 'sk-wrong', baseURL: model.baseURL },
      }),
    ).rejects.toThrow(/Incorrect API key/);
    const unreachable = await stagehand
      .observe('find the "Save" button', {
        model: { modelName: 'openai/gpt-4.1-mini', apiKey: MODEL_KEY, baseURL: 'http://127.0.0.1:9/v1' },
      })
      .catch((e: Error) => e);
    expect(unreachable).toBeInstanceOf(Error);
    expect((await t.store.getSession(sessionId))?.status).toBe('RUNNING');
    expect(await stagehand.observe('find the "Save" button')).toHaveLength(1);
  });

  it('close() calls /end, which releases the session', async () => {
    await stagehand.close();
    await waitFor(async () => (await t.store.getSession(sessionId))?.status === 'COMPLETED', {
      message: 'the session to end',
    });
  });

  it('never stores or logs the model key', () => {
    const found = (() => {
      try {
        return execFileSync('grep', ['-rl', MODEL_KEY, t.dataDir], { encoding: 'utf8' });
      } catch {
        return ''; // grep exits 1 when nothing matches
      }
    })();
    expect(found).toBe('');
  });

  it('leaves no process or directory behind', async () => {
    await expectNothingLeft(t.dataDir);
  });
});

/** Runs `support/stagehand-crash.mjs`, which starts a session and dies by SIGKILL; resolves with the session id. */
async function crashedStagehand(mode: 'api' | 'direct'): Promise<string> {
  const script = fileURLToPath(new URL('../support/stagehand-crash.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, mode], {
    env: { ...process.env, MODEL_KEY, MODEL_BASE_URL: model.baseURL },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, s) => resolve(s)));
  expect(signal).toBe('SIGKILL');
  const { sessionId } = JSON.parse(output.trim()) as { sessionId: string };
  return sessionId;
}

describe('Stagehand 3.7 with disableAPI: true against Wallcrawler', () => {
  it('init, goto, evaluate and close; with no release call, the session ends when its client disconnects', async () => {
    const stagehand = new Stagehand({
      env: 'BROWSERBASE',
      disableAPI: true,
      verbose: 0,
      disablePino: true,
      logger: () => {},
    });
    await stagehand.init();
    const sessionId = stagehand.browserbaseSessionID ?? '';
    expect((await t.store.getSession(sessionId))?.status).toBe('RUNNING');
    const page = stagehand.context.pages()[0];
    if (!page) throw new Error('no page');
    await page.goto(pageUrl);
    expect(await page.evaluate(() => document.querySelector('#price')?.textContent)).toBe('Price: 42 EUR');
    await stagehand.close();
    await waitFor(async () => (await t.store.getSession(sessionId))?.status === 'COMPLETED', {
      message: 'the disconnect rule to end the session',
    });
    expect((await t.store.getSession(sessionId))?.endReason).toMatch(/disconnect/i);
  });

  it('a Stagehand process killed with SIGKILL leaves no session running', async () => {
    const sessionId = await crashedStagehand('direct');
    await waitFor(async () => (await t.store.getSession(sessionId))?.status === 'COMPLETED', {
      message: 'the session of the killed process to end',
    });
  });
});

describe('a crashed Stagehand process in API mode', () => {
  it("is cleaned up by Stagehand's shutdown supervisor, which sends REQUEST_RELEASE (the server's own Stagehand would keep the session alive)", async () => {
    const sessionId = await crashedStagehand('api');
    await waitFor(async () => (await t.store.getSession(sessionId))?.status === 'COMPLETED', {
      message: 'the supervisor to release the session',
      timeout: 20_000,
    });
    expect((await t.store.getSession(sessionId))?.endReason).toBe('The session was released');
    await expectNothingLeft(t.dataDir);
  });
});

describe("the Stagehand routes' bad input", () => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: { 'x-bb-api-key': t.apiKey, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('an unknown session id is a 404 with success: false and a message', async () => {
    for (const method of ['act', 'extract', 'observe', 'navigate', 'end']) {
      const response = await post(
        `/v1/sessions/00000000-0000-0000-0000-000000000000/${method}`,
        { input: 'x' },
        {
          'x-stream-response': 'true',
        },
      );
      expect(response.status, method).toBe(404);
      expect(await response.json()).toMatchObject({
        success: false,
        code: 'session_not_found',
        message: expect.any(String),
      });
    }
  });

  it('a start names the create fields it ignores, like a create does', async () => {
    const response = await post('/v1/sessions/start', {
      modelName: 'openai/gpt-4.1-mini',
      browserbaseSessionCreateParams: { browserSettings: { blockAds: true } },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-wallcrawler-ignored-fields')).toBe('browserSettings.blockAds');
    const { data } = (await response.json()) as { data: { sessionId: string } };
    await post(`/v1/sessions/${data.sessionId}/end`, undefined);
    expect((await t.store.getSession(data.sessionId))?.status).toBe('COMPLETED');
  });

  it('a start without modelName is a 400 with success: false', async () => {
    const response = await post('/v1/sessions/start', {});
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ success: false, code: 'validation_failed' });
  });

  it('frames events for the client: data-only for TypeScript, event + data for Python 3.18+', async () => {
    const started = await post(
      '/v1/sessions/start',
      { modelName: 'openai/gpt-4.1-mini' },
      { 'x-model-api-key': MODEL_KEY, 'x-language': 'python', 'x-sdk-version': '3.19.5' },
    );
    expect(started.status).toBe(200);
    expect(started.headers.get('x-wallcrawler-ignored-fields')).toBeNull();
    const { data } = (await started.json()) as { data: { sessionId: string; available: boolean; cdpUrl: string } };
    expect(data.available).toBe(true);
    expect(data.cdpUrl).toMatch(/^ws:\/\//);
    const navigate = { url: pageUrl, options: { model: { modelName: 'openai/gpt-4.1-mini', baseURL: model.baseURL } } };

    const typed = await post(`/v1/sessions/${data.sessionId}/navigate`, navigate, {
      'x-stream-response': 'true',
      'x-language': 'python',
      'x-sdk-version': '3.19.5',
    });
    expect(typed.headers.get('content-type')).toBe('text/event-stream');
    expect(typed.headers.get('x-request-id')).toMatch(/.+/);
    const typedText = await typed.text();
    expect(typedText).toMatch(/^event: starting\ndata: \{/);
    expect(typedText).toContain('event: finished\ndata: ');

    const plain = await post(
      `/v1/sessions/${data.sessionId}/observe`,
      {
        instruction: 'find the "Save" button',
        options: { model: { modelName: 'openai/gpt-4.1-mini', baseURL: model.baseURL } },
      },
      { 'x-stream-response': 'true', 'x-language': 'typescript', 'x-model-api-key': MODEL_KEY },
    );
    const plainText = await plain.text();
    expect(plainText).not.toContain('event:');
    const events = plainText
      .split('\n\n')
      .filter(Boolean)
      .map((block) => JSON.parse(block.replace(/^data: /, '')) as { type: string; data: { status: string } });
    expect(events.map((e) => e.data.status)).toEqual(expect.arrayContaining(['starting', 'connected', 'finished']));

    // Without x-stream-response: one JSON body.
    const json = await post(
      `/v1/sessions/${data.sessionId}/observe`,
      {
        instruction: 'find the "Save" button',
        options: { model: { modelName: 'openai/gpt-4.1-mini', baseURL: model.baseURL } },
      },
      { 'x-model-api-key': MODEL_KEY },
    );
    expect(await json.json()).toMatchObject({
      success: true,
      data: { result: [expect.objectContaining({ method: 'click' })] },
    });

    // A missing model key: an error event, and the session keeps running.
    const keyless = await post(
      `/v1/sessions/${data.sessionId}/observe`,
      {
        instruction: 'find the "Save" button',
        options: { model: { modelName: 'openai/gpt-4.1-mini', baseURL: model.baseURL } },
      },
      { 'x-stream-response': 'true' },
    );
    const keylessText = await keyless.text();
    expect(keylessText).toMatch(/"status":"error","error":"[^"]*Incorrect API key/);
    expect((await t.store.getSession(data.sessionId))?.status).toBe('RUNNING');

    const ended = await fetch(`${t.url}/v1/sessions/${data.sessionId}/end`, {
      method: 'POST',
      headers: { 'x-bb-api-key': t.apiKey },
    });
    expect(await ended.json()).toEqual({ success: true });
    expect((await t.store.getSession(data.sessionId))?.status).toBe('COMPLETED');
  });

  it('answers the Stagehand 4 cache as misses', async () => {
    expect(await (await post('/v1/cache/get', { method: 'act' })).json()).toEqual({
      success: true,
      data: { cacheKey: null, hit: false, missReason: 'disabled' },
    });
    expect(await (await post('/v1/cache/set', { method: 'act' })).json()).toEqual({
      success: true,
      data: { cacheKey: null, written: false, skippedReason: 'disabled' },
    });
  });
});
