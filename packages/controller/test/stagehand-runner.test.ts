/**
 * StagehandRunner, for real: a Stagehand 3.7 attached to a real Chromium session as one more CDP client, running
 * navigate, observe, act and extract on a real page, with the real prompts going to a scripted model server
 * (test-support/scripted-model.ts) that answers from Stagehand's own accessibility tree. The model key reaches
 * the model and nothing else: not the log lines, not the replay.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogLine } from '@browserbasehq/stagehand';
import { waitFor } from '@wallcrawler/test-support';
import { ORDER_FORM_PAGE, type ScriptedModel, startScriptedModel } from '@wallcrawler/test-support/scripted-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserSession } from '../src/browser-session.js';
import { asCallError, StagehandCallError, StagehandRunner } from '../src/stagehand/stagehand-runner.js';
import { useSessions } from './support/sessions.js';

// The runner's tests share one session and its Stagehand (an attach costs seconds): cleaned up after the file.
const { start, serve, defer } = useSessions({ per: 'file' });

const MODEL_KEY = `sk-test-${'r'.repeat(24)}-runner-secret`;

let model: ScriptedModel;
let pages: Server;
let pageUrl: string;

beforeAll(async () => {
  model = await startScriptedModel({
    apiKey: MODEL_KEY,
    extract: (call) => ({ price: /Price: (\d+) EUR/.exec(call.user)?.[1] ?? '', currency: 'EUR' }),
  });
  pages = createServer(
    (_request, response) => void response.writeHead(200, { 'content-type': 'text/html' }).end(ORDER_FORM_PAGE),
  );
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/order`;
});

afterAll(async () => {
  pages?.close();
  await model?.close();
});

/** A runner on a keepAlive session, reaching it through the session's own proxy as the server's does. */
async function runnerOn(session: BrowserSession): Promise<StagehandRunner> {
  const base = await serve(session);
  const runner = new StagehandRunner({ sessionId: session.id, cdpUrl: async () => `${base}${session.browserPath}` });
  defer(() => runner.close());
  return runner;
}

const withModel = (extra: Record<string, unknown> = {}) => ({
  options: { model: { modelName: 'openai/gpt-4.1-mini', baseURL: model.baseURL } },
  ...extra,
});

describe('a runner attached to a session', () => {
  let session: BrowserSession;
  let runner: StagehandRunner;
  const lines: LogLine[] = [];
  const log = (line: LogLine) => void lines.push(line);

  beforeAll(async () => {
    session = await start({ keepAlive: true });
    runner = await runnerOn(session);
    runner.attach({ modelName: 'openai/gpt-4.1-mini' }, MODEL_KEY);
  }, 120_000);

  it('navigates the active page, with the navigation’s real response', async () => {
    const result = (await runner.call('navigate', { url: pageUrl }, MODEL_KEY, log)) as {
      response: { status: number; url: string };
    };
    expect(result.response).toMatchObject({ status: 200, url: pageUrl });
    expect(session.clientCount).toBeGreaterThan(0);
    expect((await session.targets()).find((t) => t.type === 'page')?.title).toBe('Order');
  });

  it('observes: the real prompt reaches the model with the key, and the element comes back', async () => {
    const result = (await runner.call(
      'observe',
      withModel({ instruction: 'find the "Save" button' }),
      MODEL_KEY,
      log,
    )) as {
      method: string;
      description: string;
      selector: string;
    }[];
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ method: 'click', description: expect.stringContaining('Save') });
    expect(result[0]?.selector).toMatch(/^xpath=/);
    expect(model.calls.at(-1)).toMatchObject({ kind: 'observe', apiKey: MODEL_KEY, model: 'gpt-4.1-mini' });
    expect(model.calls.at(-1)?.user).toContain('button: Save');
  });

  it('acts on the page: fills the input, then clicks the button', async () => {
    const filled = (await runner.call(
      'act',
      withModel({ input: 'type "Ada" into the "Name" textbox' }),
      MODEL_KEY,
      log,
    )) as {
      success: boolean;
    };
    expect(filled.success).toBe(true);
    const clicked = await runner.call('act', withModel({ input: 'click the "Save" button' }), MODEL_KEY, log);
    expect(clicked).toMatchObject({ success: true, actions: [expect.objectContaining({ method: 'click' })] });
    await waitFor(async () => (await session.targets()).some((t) => t.title === 'Saved Ada'), {
      message: 'the click to reach the page',
    });
  });

  it('extracts with a JSON schema, rebuilt as zod for Stagehand', async () => {
    const schema = {
      type: 'object',
      properties: { price: { type: 'string' }, currency: { type: 'string' } },
      required: ['price', 'currency'],
    };
    const result = await runner.call(
      'extract',
      withModel({ instruction: 'the price and its currency', schema }),
      MODEL_KEY,
      log,
    );
    expect(result).toEqual({ price: '42', currency: 'EUR' });
  });

  it('keeps each call for the replay, by page, with its token usage and without any key', async () => {
    // A call that names its key in its model config, as the Python client may send it.
    await runner.call(
      'observe',
      {
        instruction: 'find the "Save" button',
        options: { model: { modelName: 'openai/gpt-4.1-mini', baseURL: model.baseURL, apiKey: MODEL_KEY } },
      },
      undefined,
      log,
    );
    const { pages: replayed } = runner.replay();
    const actions = replayed.flatMap((p) => p.actions);
    expect(actions.map((a) => a.method)).toEqual(['navigate', 'observe', 'act', 'act', 'extract', 'observe']);
    expect(replayed.at(-1)?.url).toBe(pageUrl);
    for (const action of actions.filter((a) => a.method !== 'navigate')) {
      expect(action.tokenUsage?.inputTokens, action.method).toBeGreaterThan(0);
      expect(action.endTime).toBeGreaterThanOrEqual(action.timestamp);
    }
    expect(JSON.stringify(replayed)).not.toContain(MODEL_KEY);
    // The log lines came to each call's sink, and no key is in any of them.
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain(MODEL_KEY);
  });

  it('scrubs the model key from every log line, whatever field it is in', async () => {
    const mine: LogLine[] = [];
    // Stagehand logs the instruction: one that carries the key must not carry it into the log.
    await runner.call(
      'observe',
      withModel({ instruction: `find the "Save" button (${MODEL_KEY})` }),
      MODEL_KEY,
      (line) => mine.push(line),
    );
    const text = JSON.stringify(mine);
    expect(text).toContain('[redacted]');
    expect(text).not.toContain(MODEL_KEY);
  });

  it('fails a call with the status and code its cause deserves, and runs the next one', async () => {
    const failure = (method: 'navigate' | 'agentExecute' | 'observe', body: Record<string, unknown>, key?: string) =>
      runner.call(method, body, key, log).then(
        () => undefined,
        (error: unknown) => error as StagehandCallError,
      );
    expect(await failure('navigate', {}, MODEL_KEY)).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(await failure('agentExecute', { agentConfig: {} }, MODEL_KEY)).toMatchObject({
      status: 400,
      code: 'validation_failed',
    });
    expect(
      await failure('agentExecute', { agentConfig: { mode: 'cua' }, executeOptions: { instruction: 'x' } }, MODEL_KEY),
    ).toMatchObject({ status: 501, code: 'not_supported' });
    // The model's own refusal of a wrong key is a 422 with its message, however it is asked for.
    const refusal = { status: 422, code: 'stagehand_failed', message: expect.stringMatching(/Incorrect API key/) };
    const observe = withModel({ instruction: 'find the "Save" button' });
    expect(asCallError(await failure('observe', observe, 'sk-wrong-key-0000'))).toMatchObject(refusal);
    expect(await runner.respond('observe', observe, {}).catch((e: unknown) => e)).toMatchObject(refusal);
    const streamed = await (await runner.respond('observe', observe, { streamResponse: 'true' })).text();
    expect(streamed).toMatch(/"status":"error","error":"[^"]*Incorrect API key/);
    // The session and its Stagehand are fine after the failures.
    const after = await runner.call('observe', withModel({ instruction: 'find the "Save" button' }), MODEL_KEY, log);
    expect(after).toHaveLength(1);
  });

  it('answers as one JSON body, or as server-sent events for a client that streams', async () => {
    const body = withModel({ instruction: 'find the "Save" button' });
    const json = await runner.respond('observe', body, { modelApiKey: MODEL_KEY });
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toMatchObject({
      success: true,
      data: { result: [expect.objectContaining({ method: 'click' })] },
    });

    const streamed = await runner.respond('observe', body, { modelApiKey: MODEL_KEY, streamResponse: 'true' });
    expect(streamed.headers.get('content-type')).toBe('text/event-stream');
    const events = (await streamed.text())
      .split('\n\n')
      .filter(Boolean)
      .map((block) => JSON.parse(block.replace(/^data: /, '')) as { type: string; data: { status?: string } });
    const statuses = events.filter((e) => e.type === 'system').map((e) => e.data.status);
    expect(statuses).toEqual(['starting', 'connected', 'finished']);
  });

  it('detaches on close without ending the session, and refuses calls afterwards', async () => {
    await runner.close();
    await waitFor(() => session.clientCount === 0, { message: 'Stagehand to disconnect' });
    expect(session.isRunning).toBe(true);
    const refused = await runner.call('navigate', { url: pageUrl }, MODEL_KEY, log).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StagehandCallError);
    expect(refused).toMatchObject({ status: 409, code: 'session_not_running' });
  });
});

it('reports a failed attach to the call that waited for it, and attaches again on the next call', async () => {
  const session = await start({ keepAlive: true });
  const base = await serve(session);
  let url = 'ws://127.0.0.1:9/devtools/browser/nowhere';
  const runner = new StagehandRunner({ sessionId: session.id, cdpUrl: async () => url });
  defer(() => runner.close());
  const failed = await runner.call('navigate', { url: pageUrl }, MODEL_KEY, () => {}).catch((e: unknown) => e);
  expect(failed).toBeInstanceOf(Error);
  url = `${base}${session.browserPath}`;
  expect(await runner.call('navigate', { url: pageUrl }, MODEL_KEY, () => {})).toMatchObject({
    response: { status: 200 },
  });
});
