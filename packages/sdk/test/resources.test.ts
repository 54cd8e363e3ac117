import { describe, expect, it } from 'vitest';
import { WallcrawlerError } from '../src/index.js';
import { fakeFetch, json, session, testClient } from './fake-fetch.js';

const created = {
  ...session,
  connectUrl: 'ws://wallcrawler.test/?signingKey=t',
  seleniumRemoteUrl: '',
  signingKey: 't',
};
const project = {
  id: 'proj_1',
  name: 'Default',
  ownerId: 'owner_1',
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  defaultTimeout: 3600,
  concurrency: 5,
};

describe('sessions', () => {
  it('create POSTs the params as JSON and returns the session', async () => {
    const { fetch, requests } = fakeFetch(json(created, 201));
    const params = {
      timeout: 600,
      keepAlive: true,
      region: 'eu-central-1',
      userMetadata: { run: '42' },
      browserSettings: { viewport: { width: 1280, height: 720 } },
    } as const;
    const result = await testClient(fetch).sessions.create(params);
    expect(result).toEqual(created);
    const [request] = requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('http://wallcrawler.test/v1/sessions');
    expect(request?.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual(params);
  });

  it('create without params sends an empty object', async () => {
    const { fetch, requests } = fakeFetch(json(created, 201));
    await testClient(fetch).sessions.create();
    expect(requests[0]?.body).toBe('{}');
  });

  it("create sends @browserbasehq/sdk's api_timeout as timeout, unless timeout is given", async () => {
    const { fetch, requests } = fakeFetch(json(created, 201));
    const client = testClient(fetch);
    await client.sessions.create({ api_timeout: 120, keepAlive: false });
    await client.sessions.create({ api_timeout: 120, timeout: 300 });
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ timeout: 120, keepAlive: false });
    expect(JSON.parse(requests[1]?.body ?? '')).toEqual({ timeout: 300 });
  });

  it('create passes unknown Browserbase fields through', async () => {
    const { fetch, requests } = fakeFetch(json(created, 201));
    await testClient(fetch).sessions.create({ proxies: true, browserSettings: { blockAds: true } });
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ proxies: true, browserSettings: { blockAds: true } });
  });

  it('retrieve GETs the session by URL-encoded id', async () => {
    const { fetch, requests } = fakeFetch(json(session));
    expect(await testClient(fetch).sessions.retrieve('a/b c?d')).toEqual(session);
    expect(requests[0]?.method).toBe('GET');
    expect(requests[0]?.url).toBe('http://wallcrawler.test/v1/sessions/a%2Fb%20c%3Fd');
    expect(requests[0]?.body).toBeUndefined();
  });

  it.each(['', '.', '..'])('refuses the id %j without sending anything', async (id) => {
    const { fetch, requests } = fakeFetch(json(session));
    const client = testClient(fetch);
    await expect(client.sessions.retrieve(id)).rejects.toBeInstanceOf(WallcrawlerError);
    await expect(client.sessions.update(id, { status: 'REQUEST_RELEASE' })).rejects.toBeInstanceOf(WallcrawlerError);
    await expect(client.projects.usage(id)).rejects.toBeInstanceOf(WallcrawlerError);
    expect(requests).toHaveLength(0);
  });

  it('list GETs /v1/sessions with status and q', async () => {
    const { fetch, requests } = fakeFetch(json([session]));
    const client = testClient(fetch);
    expect(await client.sessions.list()).toEqual([session]);
    await client.sessions.list({ status: 'RUNNING', q: "user_metadata['run']:'42'" });
    expect(requests[0]?.url).toBe('http://wallcrawler.test/v1/sessions');
    const url = new URL(requests[1]?.url ?? '');
    expect(url.pathname).toBe('/v1/sessions');
    expect(url.searchParams.get('status')).toBe('RUNNING');
    expect(url.searchParams.get('q')).toBe("user_metadata['run']:'42'");
    expect(requests[1]?.method).toBe('GET');
  });

  it('update POSTs the release to /v1/sessions/{id}', async () => {
    const { fetch, requests } = fakeFetch(json({ ...session, status: 'COMPLETED' }));
    const result = await testClient(fetch).sessions.update('sess_1', {
      status: 'REQUEST_RELEASE',
      projectId: 'proj_1',
    });
    expect(result.status).toBe('COMPLETED');
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.url).toBe('http://wallcrawler.test/v1/sessions/sess_1');
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ status: 'REQUEST_RELEASE', projectId: 'proj_1' });
  });

  it('debug GETs the live URLs, with expiresIn', async () => {
    const live = { debuggerFullscreenUrl: 'f', debuggerUrl: 'd', wsUrl: 'w', pages: [] };
    const { fetch, requests } = fakeFetch(json(live));
    const client = testClient(fetch);
    expect(await client.sessions.debug('sess_1')).toEqual(live);
    await client.sessions.debug('sess_1', { expiresIn: 300 });
    expect(requests[0]?.url).toBe('http://wallcrawler.test/v1/sessions/sess_1/debug');
    expect(requests[1]?.url).toBe('http://wallcrawler.test/v1/sessions/sess_1/debug?expiresIn=300');
  });
});

describe('projects', () => {
  it('list GETs /v1/projects', async () => {
    const { fetch, requests } = fakeFetch(json([project]));
    expect(await testClient(fetch).projects.list()).toEqual([project]);
    expect(requests[0]?.method).toBe('GET');
    expect(requests[0]?.url).toBe('http://wallcrawler.test/v1/projects');
  });

  it('retrieve GETs /v1/projects/{id}', async () => {
    const { fetch, requests } = fakeFetch(json(project));
    expect(await testClient(fetch).projects.retrieve('proj 1')).toEqual(project);
    expect(requests[0]?.url).toBe('http://wallcrawler.test/v1/projects/proj%201');
  });

  it('usage GETs /v1/projects/{id}/usage', async () => {
    const usage = { browserMinutes: 12, proxyBytes: 0 };
    const { fetch, requests } = fakeFetch(json(usage));
    expect(await testClient(fetch).projects.usage('proj_1')).toEqual(usage);
    expect(requests[0]?.method).toBe('GET');
    expect(requests[0]?.url).toBe('http://wallcrawler.test/v1/projects/proj_1/usage');
  });
});

describe('responses', () => {
  it('reads bodies sent without content-length', async () => {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify(project)));
        controller.close();
      },
    });
    const { fetch } = fakeFetch(new Response(stream, { headers: { 'content-type': 'application/json' } }));
    expect(await testClient(fetch).projects.retrieve('proj_1')).toEqual(project);
  });

  it('throws a WallcrawlerError on a 2xx whose body is not JSON', async () => {
    const { fetch } = fakeFetch(new Response('<html>', { status: 200, headers: { 'content-length': '6' } }));
    const error = await testClient(fetch)
      .projects.list()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WallcrawlerError);
    expect((error as Error).message).toMatch(/^Could not read the response: /);
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('throws a WallcrawlerError on a 2xx without a body', async () => {
    const { fetch } = fakeFetch(new Response(null, { status: 204 }));
    await expect(testClient(fetch).projects.list()).rejects.toThrow(/Expected a JSON body in the 204 response/);
  });
});
