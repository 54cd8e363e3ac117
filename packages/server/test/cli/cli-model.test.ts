import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ScriptedModel, startScriptedModel } from '@wallcrawler/test-support/scripted-model';
import { startTestServer, type TestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv } from '../support/cli.js';

/**
 * `wallcrawler projects model set|show|clear`, the real CLI against a running server's data dir: the key it reads
 * from stdin is stored sealed (not in the database in clear), never printed, and the server opens it to forward
 * `POST /v1/llm/responses` to the project's model.
 */

const MODEL_KEY = `sk-cli-${randomBytes(12).toString('hex')}`;

describe('projects model', () => {
  let t: TestServer;
  let model: ScriptedModel;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    model = await startScriptedModel({ apiKey: MODEL_KEY });
    t = await startTestServer();
    env = cliEnv(t.dataDir);
  });
  afterAll(async () => {
    await t?.close();
    await model?.close();
  });

  it('set reads the key from stdin, seals it, and prints no key', async () => {
    const run = await cli(
      [
        'projects',
        'model',
        'set',
        t.projectId,
        '--base-url',
        `${model.baseURL}/`,
        '--model',
        'cli-model',
        '--api',
        'chat',
        '--api-key-stdin',
        '--json',
      ],
      env,
      `${MODEL_KEY}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      projectId: t.projectId,
      baseUrl: model.baseURL,
      model: 'cli-model',
      api: 'chat',
      apiKey: 'set (sealed)',
    });
    expect(run.stdout + run.stderr).not.toContain(MODEL_KEY);
    const stored = await t.store.getProjectModel(t.projectId);
    expect(stored?.sealedApiKey).toMatch(/^v1\./);
    // Nowhere in the database files in clear.
    for (const file of ['wallcrawler.db', 'wallcrawler.db-wal']) {
      let bytes = '';
      try {
        bytes = readFileSync(join(t.dataDir, file), 'latin1');
      } catch {}
      expect(bytes).not.toContain(MODEL_KEY);
    }
  });

  it('show prints the endpoint and whether there is a key, never the key', async () => {
    const run = await cli(['projects', 'model', 'show', t.projectId], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${model.baseURL}  model=cli-model  api=chat  key: set (sealed)`);
    expect(run.stdout).not.toContain(MODEL_KEY);
    const json = await cli(['projects', 'model', 'show', t.projectId, '--json'], env);
    expect(JSON.parse(json.stdout)).not.toHaveProperty('sealedApiKey');
  });

  it("the running server forwards the project's calls with the key the CLI sealed", async () => {
    const created = await fetch(`${t.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-bb-api-key': t.apiKey, 'content-type': 'application/json' },
      body: '{}',
    });
    const session = (await created.json()) as { id: string };
    try {
      const response = await fetch(`${t.url}/v1/llm/responses`, {
        method: 'POST',
        headers: { 'x-bb-api-key': t.apiKey, 'x-bb-session-id': session.id, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'auto', input: 'hello' }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ object: 'response', status: 'completed' });
      expect(model.calls.at(-1)).toMatchObject({ api: 'chat', model: 'cli-model', apiKey: MODEL_KEY, user: 'hello' });
    } finally {
      await fetch(`${t.url}/v1/sessions/${session.id}`, {
        method: 'POST',
        headers: { 'x-bb-api-key': t.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'REQUEST_RELEASE' }),
      });
    }
  });

  it('refuses bad input with a usage error, and clear goes back to the server default', async () => {
    const bad = await cli(['projects', 'model', 'set', t.projectId, '--base-url', 'ftp://x', '--model', 'm'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--base-url must be an http(s) URL');
    const unknown = await cli(['projects', 'model', 'show', 'no-such-project'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown project no-such-project');
    const badApi = await cli(
      ['projects', 'model', 'set', t.projectId, '--base-url', model.baseURL, '--model', 'm', '--api', 'soap'],
      env,
    );
    expect(badApi.stderr).toContain('--api must be one of responses, chat');
    const cleared = await cli(['projects', 'model', 'clear', t.projectId], env);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(await t.store.getProjectModel(t.projectId)).toBeUndefined();
    const shown = await cli(['projects', 'model', 'show', t.projectId], env);
    expect(shown.stdout).toContain('has no model of its own');
  });
});
