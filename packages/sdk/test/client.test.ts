import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WallcrawlerDefault, { Wallcrawler, WallcrawlerError } from '../src/index.js';
import { fakeFetch, json, testClient } from './fake-fetch.js';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

function unsetEnv() {
  vi.stubEnv('WALLCRAWLER_API_KEY', undefined);
  vi.stubEnv('WALLCRAWLER_BASE_URL', undefined);
}

describe('configuration', () => {
  it('exports the client as default too', () => {
    expect(WallcrawlerDefault).toBe(Wallcrawler);
  });

  it('throws a WallcrawlerError explaining how to supply a missing API key', () => {
    unsetEnv();
    const attempt = () => new Wallcrawler({ fetch: fakeFetch(json({})).fetch });
    expect(attempt).toThrow(WallcrawlerError);
    expect(attempt).toThrow(/`apiKey`/);
    expect(attempt).toThrow(/WALLCRAWLER_API_KEY/);
    expect(attempt).toThrow(/wallcrawler keys create/);
    expect(attempt).toThrow(/npm start/);
  });

  it('treats a blank WALLCRAWLER_API_KEY as missing', () => {
    unsetEnv();
    vi.stubEnv('WALLCRAWLER_API_KEY', '   ');
    expect(() => new Wallcrawler({ fetch: fakeFetch(json({})).fetch })).toThrow(WallcrawlerError);
  });

  it('falls back to WALLCRAWLER_API_KEY and WALLCRAWLER_BASE_URL', async () => {
    vi.stubEnv('WALLCRAWLER_API_KEY', 'wc_from_env');
    vi.stubEnv('WALLCRAWLER_BASE_URL', 'http://env.test:4000');
    const { fetch, requests } = fakeFetch(json([]));
    const client = new Wallcrawler({ fetch });
    await client.projects.list();
    expect(client.apiKey).toBe('wc_from_env');
    expect(requests[0]?.url).toBe('http://env.test:4000/v1/projects');
    expect(requests[0]?.headers.get('x-wc-api-key')).toBe('wc_from_env');
  });

  it('prefers options over the environment', async () => {
    vi.stubEnv('WALLCRAWLER_API_KEY', 'wc_from_env');
    vi.stubEnv('WALLCRAWLER_BASE_URL', 'http://env.test:4000');
    const { fetch, requests } = fakeFetch(json([]));
    await new Wallcrawler({ apiKey: 'wc_option', baseURL: 'http://option.test', fetch }).projects.list();
    expect(requests[0]?.url).toBe('http://option.test/v1/projects');
    expect(requests[0]?.headers.get('x-wc-api-key')).toBe('wc_option');
  });

  it('defaults the base URL to a local server', async () => {
    unsetEnv();
    const { fetch, requests } = fakeFetch(json([]));
    await new Wallcrawler({ apiKey: 'k', fetch }).projects.list();
    expect(requests[0]?.url).toBe('http://127.0.0.1:3000/v1/projects');
  });

  it('works where `process` does not exist', () => {
    vi.stubGlobal('process', undefined);
    let client: Wallcrawler | undefined;
    let missingKey: unknown;
    try {
      client = new Wallcrawler({ apiKey: 'k', fetch: fakeFetch(json({})).fetch });
      new Wallcrawler({ fetch: fakeFetch(json({})).fetch });
    } catch (error) {
      missingKey = error;
    } finally {
      vi.unstubAllGlobals();
    }
    expect(client?.baseURL).toBe('http://127.0.0.1:3000');
    expect(missingKey).toBeInstanceOf(WallcrawlerError);
  });

  it.each([
    ['http://host.test/prefix', 'http://host.test/prefix/v1/sessions'],
    ['http://host.test/prefix/', 'http://host.test/prefix/v1/sessions'],
    ['http://host.test/a/b//', 'http://host.test/a/b/v1/sessions'],
    ['http://host.test/', 'http://host.test/v1/sessions'],
    ['https://host.test:8443', 'https://host.test:8443/v1/sessions'],
  ])('keeps the path prefix of %s', async (baseURL, expected) => {
    const { fetch, requests } = fakeFetch(json([]));
    await testClient(fetch, { baseURL }).sessions.list();
    expect(requests[0]?.url).toBe(expected);
  });

  it.each(['not a url', 'ftp://host.test', 'http://host.test/?x=1', 'http://host.test/#x'])(
    'rejects baseURL %s',
    (baseURL) => {
      expect(() => testClient(fakeFetch(json({})).fetch, { baseURL })).toThrow(WallcrawlerError);
    },
  );

  it.each([{ maxRetries: -1 }, { maxRetries: 1.5 }, { timeout: 0 }, { timeout: Number.NaN }, { timeout: 2 ** 31 }])(
    'rejects %o',
    (options) => {
      expect(() => testClient(fakeFetch(json({})).fetch, options)).toThrow(WallcrawlerError);
    },
  );

  it('rejects invalid per-request options before sending', async () => {
    const { fetch, requests } = fakeFetch(json([]));
    await expect(testClient(fetch).projects.list({ timeout: -5 })).rejects.toBeInstanceOf(WallcrawlerError);
    await expect(testClient(fetch).projects.list({ maxRetries: -1 })).rejects.toBeInstanceOf(WallcrawlerError);
    expect(requests).toHaveLength(0);
  });

  it('exposes its settings', () => {
    const client = testClient(fakeFetch(json({})).fetch, { projectId: 'proj_2', maxRetries: 5, timeout: 1000 });
    expect(client).toMatchObject({
      apiKey: 'wc_test',
      baseURL: 'http://wallcrawler.test',
      projectId: 'proj_2',
      maxRetries: 5,
      timeout: 1000,
    });
    const defaults = testClient(fakeFetch(json({})).fetch);
    expect(defaults.maxRetries).toBe(2);
    expect(defaults.timeout).toBe(60_000);
  });
});

describe('headers', () => {
  it('sends the API key, JSON accept and retry count; no project header unless configured', async () => {
    const { fetch, requests } = fakeFetch(json([]));
    await testClient(fetch).projects.list();
    const headers = requests[0]?.headers;
    expect(headers?.get('x-wc-api-key')).toBe('wc_test');
    expect(headers?.get('accept')).toBe('application/json');
    expect(headers?.get('x-wc-retry-count')).toBe('0');
    expect(headers?.has('x-wc-project-id')).toBe(false);
    expect(headers?.has('content-type')).toBe(false);
  });

  it('sends projectId as x-wc-project-id', async () => {
    const { fetch, requests } = fakeFetch(json([]));
    await testClient(fetch, { projectId: 'proj_2' }).sessions.list();
    expect(requests[0]?.headers.get('x-wc-project-id')).toBe('proj_2');
  });

  it('merges defaultHeaders and per-request headers, per-request last; null removes', async () => {
    const { fetch, requests } = fakeFetch(json([]));
    const client = testClient(fetch, {
      projectId: 'proj_2',
      defaultHeaders: { 'x-team': 'a', 'x-trace': 'default' },
    });
    await client.sessions.list({}, { headers: { 'x-trace': 'call', 'x-wc-project-id': null } });
    const headers = requests[0]?.headers;
    expect(headers?.get('x-team')).toBe('a');
    expect(headers?.get('x-trace')).toBe('call');
    expect(headers?.has('x-wc-project-id')).toBe(false);
    expect(headers?.get('x-wc-api-key')).toBe('wc_test');
  });
});

describe('raw', () => {
  it('is the typed openapi-fetch client over the same transport', async () => {
    const { fetch, requests } = fakeFetch(json({ status: 'ok', version: '0.1.0' }));
    const { data } = await testClient(fetch, { baseURL: 'http://host.test/api/' }).raw.GET('/health');
    expect(data).toEqual({ status: 'ok', version: '0.1.0' });
    expect(requests[0]?.url).toBe('http://host.test/api/health');
    expect(requests[0]?.headers.get('x-wc-api-key')).toBe('wc_test');
  });

  it('returns non-2xx answers as `error`, after retrying them', async () => {
    const { fetch, requests } = fakeFetch(json({ message: 'down' }, 503));
    const client = testClient(fetch);
    const { error, response } = await client.raw.GET('/v1/projects');
    expect(response.status).toBe(503);
    expect(error).toEqual({ message: 'down' });
    expect(requests).toHaveLength(3);
  });
});

describe('portability', () => {
  it('has no Node-only imports in src', () => {
    const srcDir = join(import.meta.dirname, '..', 'src');
    const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      // Comments may mention process.env; code may not touch it.
      const source = readFileSync(join(srcDir, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(source, file).not.toMatch(/from ['"]node:|require\(|\bprocess\.|\bBuffer\b/);
    }
  });
});
