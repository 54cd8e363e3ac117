import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { CdpGateway } from '@wallcrawler/controller';
import { tempDir } from '@wallcrawler/test-support';
import { type LogLine, memoryLogger } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSessionCache } from '../../src/adapters/cached-sessions.js';
import { FileTokenSigner } from '../../src/adapters/local/file-token-signer.js';
import { LocalBrowserProvider } from '../../src/adapters/local/local-browser-provider.js';
import { SqliteStore } from '../../src/adapters/sqlite/sqlite-store.js';
import { generateApiKey } from '../../src/api-keys.js';
import { createApi } from '../../src/app.js';
import { newProject } from '../../src/bootstrap.js';
import { localConnectAuthenticator } from '../../src/runtime/connect-authenticator.js';
import { sessionRecord } from '../support/records.js';

/**
 * The Node runtime's fast `GET /v1/sessions/{id}` answers exactly what the app answers, and leaves every other
 * request to the app. Each request goes over real HTTP to a server built as `runtime/node.ts` builds its
 * listener (fast route first, then the app), which notes who answered; the same request sent to the app alone
 * (`app.request`) gives the answer to compare with. Sessions are rows in a real SQLite store: no browser is needed
 * to read one.
 */

const dir = tempDir('wallcrawler-fast-read-');
const lines: LogLine[] = [];
let store: SqliteStore;
let cached: SqliteStore;
let api: ReturnType<typeof createApi>;
let server: Server;
let base: string;
let lastServedBy: 'fast' | 'app' | undefined;
const ids: Record<string, string> = {};
const keys: Record<string, string> = {};

beforeAll(async () => {
  store = await SqliteStore.open(join(dir.path, 'wallcrawler.db'));
  cached = withSessionCache(store);
  const signer = FileTokenSigner.load(join(dir.path, 'connect-secret'));
  const gateway = new CdpGateway({ authenticate: localConnectAuthenticator(signer, cached) });
  const provider = new LocalBrowserProvider({ gateway, dataDir: dir.path, chromePath: '/nonexistent/chromium' });
  api = createApi({ store: cached, provider, signer, logger: memoryLogger(lines) });

  const mine = newProject('mine');
  const other = newProject('other');
  await store.createProject(mine);
  await store.createProject(other);
  const key = generateApiKey('mine', [mine.id, other.id]);
  const otherKey = generateApiKey('other', [other.id]);
  const revoked = generateApiKey('revoked', [mine.id]);
  for (const k of [key, otherKey, revoked]) await store.createApiKey(k.record);
  await store.revokeApiKey(revoked.record.id, new Date());
  Object.assign(keys, { key: key.key, otherKey: otherKey.key, revoked: revoked.key });

  const running = sessionRecord(mine.id, { userMetadata: { run: 'fast', n: 1 } });
  const ended = sessionRecord(mine.id);
  const ofOther = sessionRecord(other.id);
  for (const s of [running, ended, ofOther]) await store.insertSessionWithinLimit(s, 10);
  await cached.markSessionRunning(running.id, new Date());
  await cached.markSessionRunning(ofOther.id, new Date());
  await cached.endSession(ended.id, { status: 'COMPLETED', endedAt: new Date(), endReason: 'arranged by the test' });
  Object.assign(ids, { running: running.id, ended: ended.id, ofOther: ofOther.id, otherProject: other.id });

  const app = getRequestListener(api.app.fetch);
  server = createServer((request, response) => {
    const fast = api.fastRoute(request, response);
    const toApp = () => {
      lastServedBy = 'app';
      void app(request, response);
    };
    if (!fast) return toApp();
    void fast.then((served) => {
      if (served) lastServedBy = 'fast';
      else toApp();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await store.close();
  dir.remove();
});

interface Answer {
  status: number;
  contentType: string | null;
  requestId: string | null;
  body: unknown;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    requestId: response.headers.get('x-request-id'),
    body: text ? JSON.parse(text) : undefined,
  };
}

/** The same request over HTTP (fast route, else the app) and to the app alone; the host is the same for both. */
async function both(method: string, path: string, headers: Record<string, string>) {
  lastServedBy = undefined;
  const served = await answer(await fetch(`${base}${path}`, { method, headers }));
  const servedBy = lastServedBy;
  const fromApp = await answer(await api.app.request(`${base}${path}`, { method, headers }));
  return { served, servedBy, fromApp };
}

const fill = (text: string) => text.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? keys[name] ?? name);

describe('the fast GET /v1/sessions/{id}', () => {
  // biome-ignore format: one request per line, so the table reads as a table.
  const rows: { name: string; path: string; headers: Record<string, string>; by: 'fast' | 'app'; status: number; method?: string }[] = [
    { name: 'a running session, X-BB-API-Key', path: '/v1/sessions/{running}', headers: { 'x-bb-api-key': '{key}' }, by: 'fast', status: 200 },
    { name: 'a running session, x-wc-api-key', path: '/v1/sessions/{running}', headers: { 'x-wc-api-key': '{key}' }, by: 'fast', status: 200 },
    { name: 'a running session, a bearer token', path: '/v1/sessions/{running}', headers: { authorization: 'Bearer {key}' }, by: 'fast', status: 200 },
    { name: 'a query string', path: '/v1/sessions/{running}?fields=all', headers: { 'x-bb-api-key': '{key}' }, by: 'fast', status: 200 },
    { name: 'an ended session', path: '/v1/sessions/{ended}', headers: { 'x-bb-api-key': '{key}' }, by: 'fast', status: 200 },
    { name: 'the other project, chosen by x-wc-project-id', path: '/v1/sessions/{ofOther}', headers: { 'x-bb-api-key': '{key}', 'x-wc-project-id': '{otherProject}' }, by: 'fast', status: 200 },
    { name: "another project's session", path: '/v1/sessions/{ofOther}', headers: { 'x-bb-api-key': '{key}' }, by: 'app', status: 404 },
    { name: 'an unknown session', path: '/v1/sessions/no-such-session', headers: { 'x-bb-api-key': '{key}' }, by: 'app', status: 404 },
    { name: 'no key', path: '/v1/sessions/{running}', headers: {}, by: 'app', status: 401 },
    { name: 'a wrong key', path: '/v1/sessions/{running}', headers: { 'x-bb-api-key': 'wc_wrong' }, by: 'app', status: 401 },
    { name: 'a revoked key', path: '/v1/sessions/{running}', headers: { 'x-bb-api-key': '{revoked}' }, by: 'app', status: 401 },
    { name: 'a project the key does not cover', path: '/v1/sessions/{running}', headers: { 'x-bb-api-key': '{otherKey}', 'x-wc-project-id': 'not-a-project' }, by: 'app', status: 403 },
    { name: 'an id that needs decoding', path: '/v1/sessions/%7Brunning%7D', headers: { 'x-bb-api-key': '{key}' }, by: 'app', status: 404 },
    { name: 'a trailing slash', path: '/v1/sessions/{running}/', headers: { 'x-bb-api-key': '{key}' }, by: 'app', status: 404 },
    { name: 'HEAD', method: 'HEAD', path: '/v1/sessions/{running}', headers: { 'x-bb-api-key': '{key}' }, by: 'app', status: 200 },
  ];

  for (const row of rows) {
    it(`${row.name}: answered by the ${row.by === 'fast' ? 'fast route' : 'app'}, as the app answers it`, async () => {
      // One request id for both, so that error bodies (which carry it) compare equal.
      const headers = {
        'x-request-id': `compare-${row.name.replace(/\W+/g, '-')}`,
        ...Object.fromEntries(Object.entries(row.headers).map(([k, v]) => [k, fill(v)])),
      };
      const { served, servedBy, fromApp } = await both(row.method ?? 'GET', fill(row.path), headers);
      expect(servedBy).toBe(row.by);
      expect(served.status).toBe(row.status);
      expect(served).toEqual(fromApp);
    });
  }

  it('answers a running session with its connect URLs, and echoes a sane x-request-id', async () => {
    const { served, servedBy } = await both('GET', `/v1/sessions/${ids.running}`, {
      'x-bb-api-key': keys.key as string,
      'x-request-id': 'poll-42',
    });
    expect(servedBy).toBe('fast');
    expect(served).toMatchObject({
      status: 200,
      contentType: 'application/json',
      requestId: 'poll-42',
      body: {
        id: ids.running,
        status: 'RUNNING',
        userMetadata: { run: 'fast', n: 1 },
        connectUrl: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/\?signingKey=/),
        seleniumRemoteUrl: `${base}/webdriver`,
      },
    });
    const line = lines.findLast((l) => l.message === 'request' && l.fields.requestId === 'poll-42');
    expect(line?.fields).toMatchObject({ method: 'GET', path: `/v1/sessions/${ids.running}`, status: 200 });
  });

  it('answers what the store holds once the session changes (its cached JSON goes with the old record)', async () => {
    const session = sessionRecord(ids.otherProject as string);
    await store.insertSessionWithinLimit(session, 10);
    await cached.markSessionRunning(session.id, new Date());
    const headers = { 'x-bb-api-key': keys.otherKey as string };
    const first = await both('GET', `/v1/sessions/${session.id}`, headers);
    expect(first.served.body).toMatchObject({ status: 'RUNNING' });
    await cached.endSession(session.id, { status: 'TIMED_OUT', endedAt: new Date(), endReason: 'arranged' });
    const second = await both('GET', `/v1/sessions/${session.id}`, headers);
    expect(second.servedBy).toBe('fast');
    expect(second.served.body).toMatchObject({ status: 'TIMED_OUT' });
    expect(second.served.body).not.toHaveProperty('connectUrl');
  });
});
