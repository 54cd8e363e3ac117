import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createOpenAI } from '@ai-sdk/openai';
import { type ModelCall, type ScriptedModel, startScriptedModel } from '@wallcrawler/test-support/scripted-model';
import { generateObject, streamObject } from 'ai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { newProject } from '../../src/bootstrap.js';
import { sealModelKey } from '../../src/llm/model-key-seal.js';
import { sessionRecord } from '../support/records.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * `POST /v1/llm/responses` (Stagehand 4's model gateway) against the scripted model server: the AI SDK's own
 * OpenAI Responses client (what Stagehand 4 runs) pointed at Wallcrawler with no model of its own, whole and
 * streamed answers, an upstream that speaks Responses and one that speaks only Chat Completions, and every error.
 */

const MODEL_KEY = `sk-test-${randomBytes(8).toString('hex')}`;
const CONTEXT_KEY = randomBytes(32);
/** Stagehand's extract-metadata schema: the scripted model's answer to it is fixed. */
const Metadata = z.object({ progress: z.string(), completed: z.boolean() });
const EXPECTED = { progress: 'extracted what was asked', completed: true };

let model: ScriptedModel;
let failWith: number | undefined;

beforeAll(async () => {
  model = await startScriptedModel({ apiKey: MODEL_KEY, fail: () => failWith });
});
afterAll(async () => {
  await model?.close();
});
afterEach(() => {
  failWith = undefined;
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A running session of the app's default project, and the headers Stagehand 4 sends with it. */
async function sessionHeaders(t: TestApp): Promise<Record<string, string>> {
  const session = sessionRecord(t.projectId, { status: 'RUNNING' });
  await t.store.insertSessionWithinLimit(session, 100);
  return { 'x-bb-api-key': t.apiKey, 'x-bb-session-id': session.id };
}

/** The AI SDK's Responses model, as Stagehand 4 builds it for the gateway (`"auto"`, our key and session). */
const gatewayModel = (t: TestApp, headers: Record<string, string>) =>
  createOpenAI({ baseURL: `${t.url}/v1/llm`, apiKey: t.apiKey, headers }).responses('auto');

const post = (t: TestApp, headers: Record<string, string>, body: unknown) =>
  fetch(`${t.url}/v1/llm/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const metadataRequest = (stream = false) => ({
  model: 'auto',
  input: [{ role: 'user', content: [{ type: 'input_text', text: 'Is the extraction complete?' }] }],
  text: { format: { type: 'json_schema', name: 'metadata', strict: true, schema: z.toJSONSchema(Metadata) } },
  ...(stream ? { stream: true } : {}),
});

const lastCall = (): ModelCall => model.calls.at(-1) as ModelCall;

describe('with the server-wide model (Responses API upstream)', () => {
  let t: TestApp;
  let headers: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp({
      WALLCRAWLER_MODEL_BASE_URL: model.baseURL,
      WALLCRAWLER_MODEL_NAME: 'scripted-large',
      WALLCRAWLER_MODEL_API_KEY: MODEL_KEY,
    });
    headers = await sessionHeaders(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the AI SDK client with "auto" mapped to the configured model and key', async () => {
    const { object } = await generateObject({ model: gatewayModel(t, headers), schema: Metadata, prompt: 'Done?' });
    expect(object).toEqual(EXPECTED);
    expect(lastCall()).toMatchObject({ api: 'responses', model: 'scripted-large', apiKey: MODEL_KEY, stream: false });
  });

  it('streams a streamed answer through, event by event', async () => {
    const response = await post(t, headers, metadataRequest(true));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    const types = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(types).toEqual([
      'response.created',
      'response.output_item.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(lastCall()).toMatchObject({ api: 'responses', stream: true, model: 'scripted-large' });
    const { partialObjectStream, object } = streamObject({
      model: gatewayModel(t, headers),
      schema: Metadata,
      prompt: 'Done?',
    });
    for await (const _ of partialObjectStream) {
      // drained
    }
    expect(await object).toEqual(EXPECTED);
  });

  it("takes a model call larger than the API's 1 MiB body limit (a page tree, a screenshot)", async () => {
    const tree = 'x'.repeat(3 * 1024 * 1024);
    const response = await post(t, headers, { ...metadataRequest(), input: tree });
    expect(response.status).toBe(200);
    expect(lastCall().user).toHaveLength(tree.length);
  });

  it('sends a model named by the client as it is', async () => {
    const response = await post(t, headers, { ...metadataRequest(), model: 'scripted-small' });
    expect(response.status).toBe(200);
    expect(lastCall().model).toBe('scripted-small');
  });

  it('refuses a call without an API key, or without or with a foreign session', async () => {
    const anonymous = await post(t, { 'x-bb-session-id': headers['x-bb-session-id'] as string }, metadataRequest());
    expect(anonymous.status).toBe(401);
    const noSession = await post(t, { 'x-bb-api-key': t.apiKey }, metadataRequest());
    expect(noSession.status).toBe(400);
    expect(await noSession.json()).toMatchObject({ code: 'validation_failed' });
    const other = newProject('other');
    await t.store.createProject(other);
    const foreign = sessionRecord(other.id, { status: 'RUNNING' });
    await t.store.insertSessionWithinLimit(foreign, 100);
    const calls = model.calls.length;
    for (const id of [foreign.id, 'no-such-session']) {
      const response = await post(t, { ...headers, 'x-bb-session-id': id }, metadataRequest());
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({
        statusCode: 404,
        code: 'session_not_found',
        message: `Session ${id} was not found.`,
      });
    }
    expect(model.calls.length).toBe(calls);
  });

  it('refuses a body that is not a Responses request', async () => {
    const response = await post(t, headers, { messages: [] });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'validation_failed' });
  });

  it("answers 502 model_unreachable with the upstream's status when it fails", async () => {
    failWith = 503;
    const response = await post(t, headers, metadataRequest());
    expect(response.status).toBe(502);
    const body = await response.json();
    expect(body).toMatchObject({
      statusCode: 502,
      code: 'model_unreachable',
      details: [{ path: 'upstream.status', message: '503' }],
    });
    expect(body.message).toContain('answered 503: Scripted failure 503.');
    expect(JSON.stringify(body)).not.toContain(MODEL_KEY);
  });
});

describe("with a project's own model (Chat Completions upstream, key sealed)", () => {
  let t: TestApp;
  let headers: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp({ WALLCRAWLER_CONTEXT_KEY: CONTEXT_KEY.toString('hex') });
    headers = await sessionHeaders(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 400 model_not_configured, naming how to configure one, while there is none', async () => {
    const response = await post(t, headers, metadataRequest());
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body).toMatchObject({ statusCode: 400, code: 'model_not_configured' });
    expect(body.message).toContain('wallcrawler projects model set');
    expect(body.message).toContain('WALLCRAWLER_MODEL_BASE_URL');
  });

  it('translates to Chat Completions and back, for the AI SDK client', async () => {
    await t.store.setProjectModel({
      projectId: t.projectId,
      baseUrl: model.baseURL,
      model: 'local-chat',
      api: 'chat',
      sealedApiKey: sealModelKey(CONTEXT_KEY, t.projectId, MODEL_KEY),
      updatedAt: new Date(),
    });
    const { object, usage } = await generateObject({
      model: gatewayModel(t, headers),
      schema: Metadata,
      system: 'You check extractions.',
      prompt: 'Done?',
    });
    expect(object).toEqual(EXPECTED);
    expect(usage).toMatchObject({ inputTokens: 100, outputTokens: 20 });
    expect(lastCall()).toMatchObject({
      api: 'chat',
      model: 'local-chat',
      apiKey: MODEL_KEY,
      system: 'You check extractions.',
      user: 'Done?',
    });
  });

  it('translates a streamed Chat answer into Responses stream events', async () => {
    const response = await post(t, headers, metadataRequest(true));
    expect(response.status).toBe(200);
    const text = await response.text();
    const types = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(types.filter((type) => type === 'response.output_text.delta')).toHaveLength(2);
    expect(types.at(0)).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(lastCall()).toMatchObject({ api: 'chat', stream: true });
    const { partialObjectStream, object } = streamObject({
      model: gatewayModel(t, headers),
      schema: Metadata,
      prompt: 'Done?',
    });
    for await (const _ of partialObjectStream) {
      // drained
    }
    expect(await object).toEqual(EXPECTED);
  });

  it("answers 502 with the upstream's 401 when the key is wrong, and never echoes a key", async () => {
    const wrong = `sk-wrong-${randomBytes(8).toString('hex')}`;
    await t.store.setProjectModel({
      projectId: t.projectId,
      baseUrl: model.baseURL,
      model: 'local-chat',
      api: 'chat',
      sealedApiKey: sealModelKey(CONTEXT_KEY, t.projectId, wrong),
      updatedAt: new Date(),
    });
    const response = await post(t, headers, metadataRequest());
    expect(response.status).toBe(502);
    const body = await response.json();
    expect(body).toMatchObject({ code: 'model_unreachable', details: [{ path: 'upstream.status', message: '401' }] });
    expect(JSON.stringify(body)).not.toContain(wrong);
  });

  it('answers 502 model_unreachable when the endpoint cannot be reached', async () => {
    await t.store.setProjectModel({
      projectId: t.projectId,
      baseUrl: `http://127.0.0.1:${await closedPort()}/v1`,
      model: 'local-chat',
      api: 'chat',
      updatedAt: new Date(),
    });
    const response = await post(t, headers, metadataRequest());
    expect(response.status).toBe(502);
    const body = await response.json();
    expect(body).toMatchObject({
      code: 'model_unreachable',
      details: [{ path: 'upstream.status', message: 'no answer' }],
    });
    expect(body.message).toContain('could not be reached: ECONNREFUSED');
  });
});
