import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expectNothingLeft } from '@wallcrawler/test-support';
import { type ScriptedModel, startScriptedModel } from '@wallcrawler/test-support/scripted-model';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const example = fileURLToPath(new URL('../index.ts', import.meta.url));
const MODEL_KEY = 'sk-example-model-key-0123456789';
const server = useTestServer();
let model: ScriptedModel;
let pages: Server;
let pageUrl: string;

beforeAll(async () => {
  model = await startScriptedModel({
    apiKey: MODEL_KEY,
    extract: (call) => ({ price: /Price: (\d+)/.exec(call.user)?.[1] ?? '' }),
  });
  pages = createServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        '<!doctype html><title>Order</title><p>Price: 42 EUR</p><input aria-label="Name" id="name"><button onclick="document.title=\'Saved \'+document.getElementById(\'name\').value">Save</button>',
      );
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  pages?.close();
  await model?.close();
});

it('runs Stagehand 3 through the adapter against a local server and the scripted model', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--conditions=@wallcrawler/source', example, pageUrl],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        WALLCRAWLER_API_KEY: server.apiKey,
        WALLCRAWLER_BASE_URL: server.url,
        MODEL_API_KEY: MODEL_KEY,
        MODEL_BASE_URL: model.baseURL,
      },
    },
  );
  expect(stdout).toMatch(/^Session [0-9a-f-]{36} started$/m);
  expect(stdout).toContain('Observed: button: Save');
  expect(stdout).toContain('Title: Saved Ada');
  expect(stdout).toContain('Price: 42');
  expect(stdout).toContain('Session closed');
  // The calls ran on the server: the model saw Stagehand's prompts for each of them.
  expect(model.calls.map((c) => c.kind)).toEqual(expect.arrayContaining(['observe', 'act', 'extract']));
  const [session] = await server.store.listSessions(server.projectId);
  expect(session?.status).toBe('COMPLETED');
  await expectNothingLeft(server.dataDir);
});
