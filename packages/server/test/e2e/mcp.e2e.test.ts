import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { generateApiKey, newProject } from '@wallcrawler/server';
import { expectNothingLeft } from '@wallcrawler/test-support';
import { startFormPageServer } from '@wallcrawler/test-support/form-page';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `/mcp` driven by the MCP SDK's own client (streamable HTTP) against a real server and real Chromium: the tools
 * `@playwright/mcp` names, acting on sessions of the caller's project only.
 */

const t = useTestServer();
let page: Awaited<ReturnType<typeof startFormPageServer>>;
const clients: Client[] = [];

beforeAll(async () => {
  page = await startFormPageServer();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await page?.close();
});

async function connect(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'wallcrawler-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', t.url), { requestInit: { headers } }));
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

const textOf = (result: CallToolResult) =>
  result.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');

/** The ref of the snapshot's first line matching `line` (`- button "Show details" [ref=e3]`). */
function refIn(snapshot: string, line: RegExp): string {
  const found = snapshot.split('\n').find((l) => line.test(l));
  const ref = found && /\[ref=([^\]]+)\]/.exec(found)?.[1];
  if (!ref) throw new Error(`no line matching ${line} with a ref in:\n${snapshot}`);
  return ref;
}

/** A tool error's body: the REST API's error body. */
function errorOf(result: CallToolResult) {
  expect(result.isError).toBe(true);
  return JSON.parse(textOf(result)) as { statusCode: number; code: string; message: string; requestId: string };
}

describe('/mcp', () => {
  it('lists the session tools and the browser tools by @playwright/mcp’s names', async () => {
    const client = await connect({ authorization: `Bearer ${t.apiKey}` });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'browser_click',
      'browser_navigate',
      'browser_select_option',
      'browser_snapshot',
      'browser_take_screenshot',
      'browser_type',
      'session_create',
      'session_list',
      'session_release',
    ]);
    const click = tools.find((tool) => tool.name === 'browser_click');
    // `ref` as @playwright/mcp named it until 0.0.80, `target` as it does since; either is accepted.
    expect(Object.keys(click?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(['element', 'ref', 'target', 'sessionId']),
    );
  });

  it('creates a session, navigates, clicks, types and selects by ref, screenshots, and releases', {
    timeout: 90_000,
  }, async () => {
    const client = await connect({ 'x-bb-api-key': t.apiKey });
    const created = JSON.parse(textOf(await call(client, 'session_create', { userMetadata: { via: 'mcp' } })));
    expect(created).toMatchObject({ status: 'RUNNING', keepAlive: true, projectId: t.projectId });
    expect(created.connectUrl).toMatch(/^ws:\/\//);

    try {
      const navigated = textOf(await call(client, 'browser_navigate', { url: page.url }));
      expect(navigated).toContain(`- Page URL: ${page.url}`);
      expect(navigated).toContain('- Page Title: Order form');

      const snapshot = textOf(await call(client, 'browser_snapshot'));
      expect(snapshot).toContain('heading "Order form"');
      expect(snapshot).not.toContain('Details shown');
      const clicked = await call(client, 'browser_click', {
        element: 'Show details button',
        ref: refIn(snapshot, /button "Show details"/),
      });
      expect(clicked.isError).toBeFalsy();
      const afterClick = textOf(await call(client, 'browser_snapshot'));
      expect(afterClick).toContain('Details shown');

      const typed = textOf(
        await call(client, 'browser_type', { element: 'Name', ref: refIn(afterClick, /textbox "Name"/), text: 'Ada' }),
      );
      expect(typed).toContain('Hello Ada');
      const selected = textOf(
        await call(client, 'browser_select_option', {
          element: 'Colour',
          ref: refIn(typed, /combobox "Colour"/),
          values: ['green'],
        }),
      );
      expect(selected).toContain('Chosen: green');

      const shot = await call(client, 'browser_take_screenshot');
      const image = shot.content.find((c) => c.type === 'image');
      expect(image).toMatchObject({ type: 'image', mimeType: 'image/png' });
      const png = Buffer.from(image?.type === 'image' ? image.data : '', 'base64');
      expect(png.subarray(1, 4).toString()).toBe('PNG');

      // Each call disconnected; the keepAlive session runs on until released.
      expect((await t.store.getSession(created.id))?.status).toBe('RUNNING');
      const listed = JSON.parse(textOf(await call(client, 'session_list', { status: 'RUNNING' })));
      expect(listed.map((s: { id: string }) => s.id)).toContain(created.id);
      // Without a sessionId: the session this connection created.
      const released = JSON.parse(textOf(await call(client, 'session_release')));
      expect(released).toMatchObject({ id: created.id, status: 'COMPLETED' });
    } finally {
      await call(client, 'session_release', { sessionId: created.id });
    }
    expect(errorOf(await call(client, 'browser_snapshot'))).toMatchObject({ statusCode: 400, code: 'no_session' });
    expect(errorOf(await call(client, 'browser_snapshot', { sessionId: created.id }))).toMatchObject({
      statusCode: 409,
      code: 'session_not_running',
    });
  });

  it('refuses a ref the page does not have, and a ref whose element changed since the snapshot', {
    timeout: 60_000,
  }, async () => {
    const client = await connect({ 'x-bb-api-key': t.apiKey });
    const { id } = JSON.parse(textOf(await call(client, 'session_create')));
    try {
      const snapshot = textOf(await call(client, 'browser_navigate', { url: page.url }));
      expect(errorOf(await call(client, 'browser_click', { element: 'x', ref: 'e999' }))).toMatchObject({
        statusCode: 400,
        code: 'ref_not_found',
      });
      expect(errorOf(await call(client, 'browser_click', { element: 'x' }))).toMatchObject({
        statusCode: 400,
        code: 'validation_failed',
      });
      expect(errorOf(await call(client, 'browser_click', { target: 'option' }))).toMatchObject({
        statusCode: 400,
        code: 'selector_not_unique',
      });
      const button = refIn(snapshot, /button "Show details"/);
      await call(client, 'browser_navigate', { url: 'data:text/html,<a href="#">A link</a><b>one</b><b>two</b>' });
      // The page changed under the ref (no snapshot since): refused, or absent, never a click on something else.
      const stale = errorOf(await call(client, 'browser_click', { element: 'Show details button', ref: button }));
      expect(['stale_ref', 'ref_not_found']).toContain(stale.code);
    } finally {
      await call(client, 'session_release', { sessionId: id });
    }
  });

  it('answers 401 with the error body without a valid key', async () => {
    const bare = await fetch(`${t.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized', requestId: expect.any(String) });
    await expect(connect({ authorization: 'Bearer wc_not_a_key' })).rejects.toThrow(/401/);
  });

  it('answers malformed or unsupported requests with the error body', async () => {
    const headers = {
      'x-bb-api-key': t.apiKey,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    const notJson = await fetch(`${t.url}/mcp`, { method: 'POST', headers, body: '{"jsonrpc":' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ statusCode: 400, code: 'invalid_json' });
    const huge = await fetch(`${t.url}/mcp`, { method: 'POST', headers, body: `"${'x'.repeat(2 * 1024 * 1024)}"` });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ statusCode: 413, code: 'payload_too_large' });
    const stream = await fetch(`${t.url}/mcp`, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(stream.status).toBe(405);
    expect(await stream.json()).toMatchObject({ statusCode: 405, code: 'method_not_allowed' });
  });

  it('says so when the connection has no session yet', async () => {
    const client = await connect({ 'x-bb-api-key': t.apiKey });
    for (const tool of ['browser_snapshot', 'browser_take_screenshot', 'session_release']) {
      const body = errorOf(await call(client, tool));
      expect(body).toMatchObject({ statusCode: 400, code: 'no_session' });
      expect(body.message).toContain('session_create');
    }
    expect(errorOf(await call(client, 'browser_navigate', { url: page.url })).code).toBe('no_session');
  });

  it('gives another project’s key the REST API’s 404 for the session', { timeout: 60_000 }, async () => {
    const owner = await connect({ 'x-bb-api-key': t.apiKey });
    const { id } = JSON.parse(textOf(await call(owner, 'session_create')));
    try {
      const other = newProject('mcp-other');
      await t.store.createProject(other);
      const { key, record } = generateApiKey('mcp-other', [other.id]);
      await t.store.createApiKey(record);
      const stranger = await connect({ authorization: `Bearer ${key}` });
      const rest = await fetch(`${t.url}/v1/sessions/${id}`, { headers: { 'x-bb-api-key': key } });
      const restBody = (await rest.json()) as { statusCode: number; code: string; message: string };
      expect(rest.status).toBe(404);
      for (const [tool, args] of [
        ['browser_snapshot', { sessionId: id }],
        ['browser_navigate', { sessionId: id, url: page.url }],
        ['session_release', { sessionId: id }],
      ] as const) {
        expect(errorOf(await call(stranger, tool, args))).toMatchObject({
          statusCode: 404,
          code: restBody.code,
          message: restBody.message,
        });
      }
      expect(JSON.parse(textOf(await call(stranger, 'session_list')))).toEqual([]);
      expect((await t.store.getSession(id))?.status).toBe('RUNNING');
    } finally {
      await call(owner, 'session_release', { sessionId: id });
    }
  });

  it('leaves no process or directory behind', async () => {
    await expectNothingLeft(t.dataDir);
  });
});
