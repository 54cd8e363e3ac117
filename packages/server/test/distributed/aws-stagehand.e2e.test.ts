/**
 * Stagehand 3 in API mode against the distributed path: the API function (over DynamoDB Local and the ECS
 * provider) forwards Stagehand's hosted-API calls to the session's controller task, whose own Stagehand runs them
 * against the scripted model server. The answer crosses the API function buffered (API Gateway's HTTP API does
 * not stream), so the events arrive together at the end of each call.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Stagehand } from '@browserbasehq/stagehand';
import { findProcesses } from '@wallcrawler/controller';
import { waitFor } from '@wallcrawler/test-support';
import { type ScriptedModel, startScriptedModel } from '@wallcrawler/test-support/scripted-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

beforeAll(async () => {
  aws = await startAwsTopology({ concurrency: 2 });
  model = await startScriptedModel({
    apiKey: MODEL_KEY,
    extract: (call) => ({ price: /Price: (\d+)/.exec(call.user)?.[1] ?? '' }),
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
});
