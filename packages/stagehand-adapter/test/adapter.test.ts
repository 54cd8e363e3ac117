import { describe, expect, it } from 'vitest';
import { connect, launch, resolveConnection, stagehandOptions, stagehandV3Env, wallcrawlerV3 } from '../src/index.js';

describe('resolveConnection', () => {
  it('takes the options first, then WALLCRAWLER_API_KEY and WALLCRAWLER_BASE_URL', () => {
    const env = { WALLCRAWLER_API_KEY: 'wc_env', WALLCRAWLER_BASE_URL: 'http://env:3000' };
    expect(resolveConnection({}, env)).toEqual({ apiKey: 'wc_env', baseUrl: 'http://env:3000' });
    expect(resolveConnection({ apiKey: 'wc_opt', baseUrl: 'https://opt.example/' }, env)).toEqual({
      apiKey: 'wc_opt',
      baseUrl: 'https://opt.example',
    });
  });

  it('trims a trailing /v1, which Stagehand adds itself (and Stagehand 4 refuses)', () => {
    expect(resolveConnection({ apiKey: 'k', baseUrl: 'http://h:1/v1/' }, {}).baseUrl).toBe('http://h:1');
    expect(resolveConnection({ apiKey: 'k', baseUrl: 'http://h:1/wallcrawler/v1' }, {}).baseUrl).toBe(
      'http://h:1/wallcrawler',
    );
  });

  it('says what is missing or malformed', () => {
    expect(() => resolveConnection({ baseUrl: 'http://h' }, {})).toThrow(/WALLCRAWLER_API_KEY/);
    expect(() => resolveConnection({ apiKey: 'k' }, {})).toThrow(/WALLCRAWLER_BASE_URL/);
    expect(() => resolveConnection({ apiKey: 'k', baseUrl: 'localhost:3000' }, {})).toThrow(/http\(s\) URL/);
    expect(() => resolveConnection({ apiKey: 'k', baseUrl: 'ws://h:1' }, {})).toThrow(/http\(s\) URL/);
    expect(() => resolveConnection({ apiKey: 'k', baseUrl: 'http://h/?x=1' }, {})).toThrow(/query/);
  });
});

describe('Stagehand 3', () => {
  it('stagehandV3Env names both endpoints and the key, without touching the environment', () => {
    const env: Record<string, string> = {};
    expect(stagehandV3Env({ apiKey: 'k', baseUrl: 'http://h:1' }, env)).toEqual({
      BROWSERBASE_API_KEY: 'k',
      BROWSERBASE_BASE_URL: 'http://h:1',
      STAGEHAND_API_URL: 'http://h:1',
    });
    expect(env).toEqual({});
  });

  it('wallcrawlerV3 sets them and returns the options with env BROWSERBASE and the key', () => {
    const env: Record<string, string | undefined> = { OTHER: 'kept' };
    const options = wallcrawlerV3({ apiKey: 'k', baseUrl: 'http://h:1' }, { verbose: 0 as const }, env);
    expect(options).toEqual({ verbose: 0, env: 'BROWSERBASE', apiKey: 'k' });
    expect(env).toEqual({
      OTHER: 'kept',
      BROWSERBASE_API_KEY: 'k',
      BROWSERBASE_BASE_URL: 'http://h:1',
      STAGEHAND_API_URL: 'http://h:1',
    });
  });
});

describe('Stagehand 4', () => {
  const recorder = () => {
    const calls: [string, Record<string, unknown>][] = [];
    return {
      calls,
      launch: async (o: Record<string, unknown>) => {
        calls.push(['launch', o]);
        return 'browser';
      },
      connect: async (o: Record<string, unknown>) => {
        calls.push(['connect', o]);
        return 'browser';
      },
    };
  };

  it('launch and connect pass the key and base URL with the session fields', async () => {
    const bb = recorder();
    await launch(bb, { apiKey: 'k', baseUrl: 'http://h:1/' }, { keepAlive: true, apiKey: 'ignored' });
    await connect(bb, 'session-1', { apiKey: 'k', baseUrl: 'http://h:1' });
    expect(bb.calls).toEqual([
      ['launch', { keepAlive: true, apiKey: 'k', baseUrl: 'http://h:1' }],
      ['connect', { apiKey: 'k', baseUrl: 'http://h:1', sessionId: 'session-1' }],
    ]);
  });

  it('stagehandOptions sets apiUrl to the server', () => {
    expect(stagehandOptions({ browser: 'b' }, { apiKey: 'k', baseUrl: 'http://h:1/v1' })).toEqual({
      browser: 'b',
      apiUrl: 'http://h:1',
    });
  });
});
