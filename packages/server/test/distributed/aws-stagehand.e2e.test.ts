/**
 * Stagehand 3 in API mode against the distributed path: the API function (over DynamoDB Local and the ECS
 * provider) forwards Stagehand's hosted-API calls to the session's controller task, whose own Stagehand runs them
 * against the scripted model server. The answer streams through the front door (the REST API's `STREAM`
 * integration), so a call's events reach the client while it runs, and a call may outlast API Gateway's 29 s
 * (an event stream silent for 20 s gets a comment line, so CloudFront does not cut it).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Stagehand } from '@browserbasehq/stagehand';
import { findProcesses } from '@wallcrawler/controller';
import { waitFor } from '@wallcrawler/test-support';
import { type ModelCall, type ScriptedModel, startScriptedModel } from '@wallcrawler/test-support/scripted-model';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

const MODEL_KEY = 'sk-aws-stagehand-model-key-0123456789';
const FORM = `<!doctype html><title>Order</title><p>Price: 42 EUR</p>
<input aria-label="Name" id="name"><button onclick="document.title='Saved '+document.getElementById('name').value">Save</button>`;

let aws: AwsTopology;
let model: ScriptedModel;
let pages: Server;
let pageUrl: string;
const savedEnv = { ...process.env };
/** What the scripted model waits for before it answers a call, set by a test. */
let holdModel: ((call: ModelCall) => Promise<void> | undefined) | undefined;

beforeAll(async () => {
  // CloudFront waits 60 s for a byte in the stack; 25 s here, so the slow call below (30 s) is held open only by
  // the function's heartbeats on a silent event stream.
  aws = await startAwsTopology({ concurrency: 2, frontDoor: { responseTimeoutMs: 25_000 } });
  model = await startScriptedModel({
    apiKey: MODEL_KEY,
    extract: (call) => ({ price: /Price: (\d+)/.exec(call.user)?.[1] ?? '' }),
    hold: (call) => holdModel?.(call),
  });
  pages = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end(FORM);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/`;
  Object.assign(process.env, {
    BROWSERBASE_API_KEY: aws.apiKey,
    BROWSERBASE_BASE_URL: aws.url,
    STAGEHAND_API_URL: aws.url,
  });
  delete process.env.BROWSERBASE_PROJECT_ID;
});

afterAll(async () => {
  process.env = savedEnv;
  pages?.close();
  await model?.close();
  await aws?.close();
});

afterEach(() => {
  holdModel = undefined;
});

const MODEL = { modelName: 'openai/gpt-4.1-mini', apiKey: MODEL_KEY };

/** A Stagehand 3 in API mode on a new session, its page at the test's form. */
async function stagehandOnForm(): Promise<{ stagehand: Stagehand; sessionId: string; title: () => Promise<string> }> {
  const stagehand = new Stagehand({
    env: 'BROWSERBASE',
    model: { ...MODEL, baseURL: model.baseURL },
    verbose: 0,
    disablePino: true,
    logger: () => {},
  });
  await stagehand.init();
  const page = stagehand.context.pages()[0];
  if (!page) throw new Error('no page');
  expect((await page.goto(pageUrl))?.status()).toBe(200);
  return { stagehand, sessionId: stagehand.browserbaseSessionID ?? '', title: () => page.title() };
}

/** Closes Stagehand (which releases the session) and waits for its task to be gone, leaving nothing. */
async function closeAndCheck(stagehand: Stagehand, sessionId: string): Promise<void> {
  const task = aws.ecs.tasks().find((t) => t.environment.WALLCRAWLER_SESSION_ID === sessionId);
  await stagehand.close();
  await waitFor(() => aws.ecs.tasks().find((t) => t.taskArn === task?.taskArn)?.lastStatus === 'STOPPED', {
    timeout: 20_000,
    message: 'the task to stop',
  });
  expect(findProcesses(task?.dataDir ?? '')).toEqual([]);
}

describe("Stagehand's hosted API on the ECS path", () => {
  it('starts, navigates, observes, acts and extracts in the task, and close() releases the session', async () => {
    const stagehand = new Stagehand({
      env: 'BROWSERBASE',
      model: { modelName: 'openai/gpt-4.1-mini', apiKey: MODEL_KEY, baseURL: model.baseURL },
      verbose: 0,
      disablePino: true,
      logger: () => {},
    });
    await stagehand.init();
    const sessionId = stagehand.browserbaseSessionID ?? '';
    const task = aws.ecs.tasks().find((t) => t.environment.WALLCRAWLER_SESSION_ID === sessionId);
    expect(task, 'the session runs in a task of its own').toBeDefined();

    const page = stagehand.context.pages()[0];
    if (!page) throw new Error('no page');
    expect((await page.goto(pageUrl))?.status()).toBe(200);
    const [button] = await stagehand.observe('find the "Save" button');
    expect(button?.description).toContain('Save');
    await stagehand.act('type "Ada" into the "Name" textbox');
    await stagehand.act('click the "Save" button');
    await waitFor(async () => (await page.title()) === 'Saved Ada', { message: 'the click to reach the page' });
    expect(await stagehand.extract('the price', z.object({ price: z.string() }))).toMatchObject({ price: '42' });
    expect((await stagehand.metrics).actPromptTokens).toBeGreaterThan(0);
    // A wrong key fails that call only.
    await expect(
      stagehand.observe('find the "Save" button', {
        model: { modelName: 'openai/gpt-4.1-mini', apiKey: 'sk-wrong', baseURL: model.baseURL },
      }),
    ).rejects.toThrow(/Incorrect API key/);

    await stagehand.close();
    await waitFor(async () => (await aws.store.getSession(sessionId))?.status === 'COMPLETED', {
      timeout: 20_000,
      message: 'the session to be released',
    });
    const taskNow = () => aws.ecs.tasks().find((t) => t.taskArn === task?.taskArn);
    await waitFor(() => taskNow()?.lastStatus === 'STOPPED', { timeout: 20_000, message: 'the task to stop' });
    expect(taskNow()?.leaked).toEqual([]);
    expect(findProcesses(task?.dataDir ?? '')).toEqual([]);
    expect(model.calls.map((c) => c.apiKey).filter((k) => k === MODEL_KEY).length).toBeGreaterThan(0);
  });

  it('answers an unknown session with a 404 in the shape Stagehand reads', async () => {
    const response = await fetch(`${aws.url}/v1/sessions/00000000-0000-0000-0000-000000000000/act`, {
      method: 'POST',
      headers: { 'x-bb-api-key': aws.apiKey, 'content-type': 'application/json', 'x-stream-response': 'true' },
      body: JSON.stringify({ input: 'click' }),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ success: false, code: 'session_not_found' });
  });

  it("streams a call's events to the client while the call runs", async () => {
    const { stagehand, sessionId, title } = await stagehandOnForm();
    // The model answers the act only once the client has seen an event of the call's stream: a front door that
    // held the stream back until the call ended would leave the model waiting, and the order below would show it.
    const order: string[] = [];
    let clientSawEvent = false;
    holdModel = async (call) => {
      if (call.kind !== 'act') return;
      await waitFor(() => clientSawEvent, { timeout: 20_000, message: 'the client to see an event' }).catch(() =>
        order.push('the model stopped waiting'),
      );
      order.push('the model answers');
    };
    const response = await fetch(`${aws.url}/v1/sessions/${sessionId}/act`, {
      method: 'POST',
      headers: {
        'x-bb-api-key': aws.apiKey,
        'content-type': 'application/json',
        'x-stream-response': 'true',
        'x-model-api-key': MODEL_KEY,
      },
      body: JSON.stringify({
        input: 'click the "Save" button',
        options: { model: { ...MODEL, baseURL: model.baseURL } },
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      buffered += decoder.decode(read.value, { stream: true });
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const frame = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!frame.startsWith('data: ')) continue;
        const event = JSON.parse(frame.slice('data: '.length)) as { data: { status: string } };
        order.push(`the client sees ${event.data.status}`);
        clientSawEvent = true;
      }
    }
    expect(order).not.toContain('the model stopped waiting');
    const answered = order.indexOf('the model answers');
    expect(answered).toBeGreaterThan(order.indexOf('the client sees starting'));
    expect(order.indexOf('the client sees starting')).toBe(0);
    expect(order.at(-1)).toBe('the client sees finished');
    await waitFor(async () => (await title()).startsWith('Saved'), { message: 'the click to reach the page' });
    await closeAndCheck(stagehand, sessionId);
  });

  it('completes a call that runs longer than 29 s and is silent longer than the edge waits', async () => {
    const { stagehand, sessionId, title } = await stagehandOnForm();
    // A slow model: the act's answer comes 30 s after the model was asked. API Gateway's HTTP API cut a call at
    // 29 s; this front door waits 25 s for a byte, so only the event stream's heartbeats keep the call alive.
    holdModel = (call) => (call.kind === 'act' ? new Promise((resolve) => setTimeout(resolve, 30_000)) : undefined);
    await stagehand.act('click the "Save" button');
    await waitFor(async () => (await title()).startsWith('Saved'), { message: 'the click to reach the page' });
    await closeAndCheck(stagehand, sessionId);
  }, 120_000);
});
