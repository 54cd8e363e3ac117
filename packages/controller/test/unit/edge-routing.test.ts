import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ConnectAuthError, EDGE_ENV, signConnectToken, verifyConnectToken } from '@wallcrawler/contracts';
import { describe, expect, it } from 'vitest';
import { loadEdgeConfig } from '../../src/edge/config.js';
import { edgeHttpPath, publicBaseOf, rewriteDiscovery } from '../../src/edge/http-relay.js';
import { addressOf, SessionAddresses } from '../../src/edge/session-addresses.js';
import { EdgeRefusal, routeOf, routeTo } from '../../src/edge/session-route.js';

const secret = randomBytes(32);
const secretText = secret.toString('base64url');

describe("the edge's configuration", () => {
  it('has the documented defaults', () => {
    const config = loadEdgeConfig({
      [EDGE_ENV.connectSecret]: secretText,
      [EDGE_ENV.sessionsTable]: 'sessions',
      [EDGE_ENV.awsRegion]: 'us-east-1',
    });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, pingMs: 60_000, publicUrl: undefined });
  });

  it('lists every problem at once, and never the secret', () => {
    const load = () =>
      loadEdgeConfig({ [EDGE_ENV.connectSecret]: 'c2hvcnQ', [EDGE_ENV.pingMs]: '5', [EDGE_ENV.publicUrl]: 'ftp://x' });
    expect(load).toThrow(/WALLCRAWLER_CONNECT_SECRET: must decode to at least 32 bytes/);
    expect(load).toThrow(/WALLCRAWLER_EDGE_PING_MS/);
    expect(load).toThrow(/WALLCRAWLER_SESSIONS_TABLE/);
    expect(load).toThrow(/AWS_REGION/);
    expect(load).toThrow(/WALLCRAWLER_CONNECT_BASE_URL/);
    expect(load).not.toThrow(/c2hvcnQ/);
  });
});

describe("a session's address", () => {
  it('is read from its item: running with its task, starting, ended, unknown', () => {
    expect(addressOf({ status: 'RUNNING', projectId: 'p', connectEndpoint: 'ws://127.1.2.3:9223' })).toEqual({
      kind: 'running',
      projectId: 'p',
      endpoint: { host: '127.1.2.3', port: 9223 },
    });
    expect(addressOf({ status: 'PENDING' })).toEqual({ kind: 'starting' });
    expect(addressOf({ status: 'RUNNING' })).toEqual({ kind: 'starting' });
    expect(addressOf({ status: 'COMPLETED' })).toEqual({ kind: 'ended', status: 'COMPLETED' });
    expect(addressOf(undefined)).toEqual({ kind: 'unknown' });
    expect(addressOf({ status: 'RUNNING', connectEndpoint: 'not a url' })).toEqual({ kind: 'starting' });
  });

  it("keeps a running session's address briefly, and reads others every time", async () => {
    let now = 0;
    const reads: string[] = [];
    const items: Record<string, Record<string, unknown>> = {
      a: { status: 'RUNNING', connectEndpoint: 'ws://10.0.0.1:9223' },
      b: { status: 'PENDING' },
    };
    const addresses = new SessionAddresses({
      read: async (id) => {
        reads.push(id);
        return items[id];
      },
      ttlMs: 1_000,
      now: () => now,
    });
    await Promise.all([addresses.lookup('a'), addresses.lookup('a')]);
    await addresses.lookup('a');
    expect(reads).toEqual(['a']);
    now = 1_001;
    await addresses.lookup('a');
    expect(reads).toEqual(['a', 'a']);
    await addresses.lookup('b');
    await addresses.lookup('b');
    expect(reads).toEqual(['a', 'a', 'b', 'b']);
    addresses.forget('a');
    expect(addresses.size).toBe(0);
  });

  it('keeps at most maxEntries addresses', async () => {
    const addresses = new SessionAddresses({
      read: async () => ({ status: 'RUNNING', connectEndpoint: 'ws://10.0.0.1:9223' }),
      maxEntries: 2,
    });
    for (const id of ['a', 'b', 'c']) await addresses.lookup(id);
    expect(addresses.size).toBe(2);
  });
});

describe("the edge's routing", () => {
  const items: Record<string, Record<string, unknown>> = {
    running: { status: 'RUNNING', projectId: 'p', connectEndpoint: 'ws://10.0.0.9:9223' },
    ended: { status: 'TIMED_OUT', projectId: 'p' },
    starting: { status: 'PENDING', projectId: 'p' },
  };
  const reads: string[] = [];
  const addresses = new SessionAddresses({
    read: async (id) => {
      reads.push(id);
      return items[id];
    },
    ttlMs: 0,
  });
  const verify = (token: string | undefined) => verifyConnectToken(secret, token);
  const token = (
    sessionId: string,
    { key = secret, expiresAt = new Date(Date.now() + 60_000), projectId = 'p' } = {},
  ) => signConnectToken(key, { sessionId, projectId, expiresAt });
  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error instanceof ConnectAuthError || error instanceof EdgeRefusal).toBe(true);
    const { status, code } = error as EdgeRefusal;
    return { status, code };
  };

  it('routes a valid token to its running task', async () => {
    expect(await routeOf({ signingKey: await token('running') }, verify, addresses)).toEqual({
      sessionId: 'running',
      endpoint: { host: '10.0.0.9', port: 9223 },
    });
  });

  it('refuses a tampered, expired or foreign token before reading anything', async () => {
    reads.length = 0;
    const good = await token('running');
    const tampered = `${good.slice(0, -3)}${good.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    expect(await refusal(routeOf({ signingKey: tampered }, verify, addresses))).toEqual({
      status: 401,
      code: 'invalid_token',
    });
    const expired = await token('running', { expiresAt: new Date(Date.now() - 60_000) });
    expect(await refusal(routeOf({ signingKey: expired }, verify, addresses))).toEqual({
      status: 401,
      code: 'token_expired',
    });
    const foreign = await token('running', { key: randomBytes(32) });
    expect(await refusal(routeOf({ signingKey: foreign }, verify, addresses))).toEqual({
      status: 401,
      code: 'invalid_token',
    });
    expect(await refusal(routeOf({ apiKey: 'bb_key', sessionId: 'running' }, verify, addresses))).toEqual({
      status: 401,
      code: 'missing_token',
    });
    expect(reads).toEqual([]);
  });

  it('answers unknown, ended and starting sessions itself', async () => {
    expect(await refusal(routeOf({ signingKey: await token('nope') }, verify, addresses))).toEqual({
      status: 404,
      code: 'session_not_found',
    });
    expect(await refusal(routeOf({ signingKey: await token('ended') }, verify, addresses))).toEqual({
      status: 410,
      code: 'session_ended',
    });
    expect(await refusal(routeTo('starting', addresses))).toEqual({ status: 409, code: 'session_starting' });
    // A token of another project for a running session's id is answered as an unknown session.
    expect(
      await refusal(routeOf({ signingKey: await token('running', { projectId: 'q' }) }, verify, addresses)),
    ).toEqual({ status: 404, code: 'session_not_found' });
    expect(
      await refusal(routeOf({ signingKey: await token('running'), sessionId: 'ended' }, verify, addresses)),
    ).toEqual({ status: 403, code: 'token_session_mismatch' });
  });
});

describe("the edge's HTTP side", () => {
  it('serves only the connect paths, never the API-only paths of a task', () => {
    expect(edgeHttpPath('/health')).toEqual({ kind: 'health' });
    expect(edgeHttpPath('/json/version')).toEqual({ kind: 'discovery', path: '/json/version' });
    expect(edgeHttpPath('/json/list/')).toEqual({ kind: 'discovery', path: '/json/list' });
    expect(edgeHttpPath('/debug/s-1/live')).toEqual({ kind: 'page', sessionId: 's-1' });
    expect(edgeHttpPath('/debug/s-1/devtools/inspector.html')).toEqual({ kind: 'page', sessionId: 's-1' });
    for (const path of ['/stagehand/start', '/files/logs', '/pool/claim', '/debug/s/devtools/../x', '/v1/sessions'])
      expect(edgeHttpPath(path)).toEqual({ kind: 'none' });
  });

  it("rewrites discovery's socket URLs to the edge's public base, keeping path and credential", () => {
    const body = [
      { id: 'T', webSocketDebuggerUrl: 'ws://10.0.0.9:9223/devtools/page/T?signingKey=k' },
      { id: 'W', type: 'service_worker' },
    ];
    expect(rewriteDiscovery(body, 'https://d111.cloudfront.net')).toEqual([
      { id: 'T', webSocketDebuggerUrl: 'wss://d111.cloudfront.net/devtools/page/T?signingKey=k' },
      { id: 'W', type: 'service_worker' },
    ]);
    expect(
      rewriteDiscovery({ Browser: 'x', webSocketDebuggerUrl: 'ws://10.0.0.9:9223/devtools/browser/B' }, 'http://h:1'),
    ).toEqual({ Browser: 'x', webSocketDebuggerUrl: 'ws://h:1/devtools/browser/B' });
  });

  it("takes the public base from its setting, else the request's Host and X-Forwarded-Proto", () => {
    const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    expect(publicBaseOf(request({ host: 'a' }), 'https://edge.example')).toBe('https://edge.example');
    expect(publicBaseOf(request({ host: 'a:1', 'x-forwarded-proto': 'https' }), undefined)).toBe('https://a:1');
    expect(publicBaseOf(request({ host: 'a:1' }), undefined)).toBe('http://a:1');
  });
});
