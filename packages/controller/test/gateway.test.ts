/**
 * CdpGateway, over real HTTP: it serves each session's CDP upgrades, DevTools discovery and live view on one
 * port, after its authenticator named the session; everything it refuses gets the one error body
 * `{ statusCode, error, code, message, requestId }` with a stable code, and the request id in its header.
 */
import { createServer, type Server, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as connectTcp } from 'node:net';
import { ConnectAuthError } from '@wallcrawler/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdpGateway, type ConnectCredentials } from '../src/gateway.js';
import { cdpClient, useSessions } from './support/sessions.js';

const { start } = useSessions();

/** Grants `key-<session id>`; refuses anything else as the server's authenticator would. */
async function authenticate({ signingKey }: ConnectCredentials): Promise<string> {
  if (!signingKey) throw new ConnectAuthError(401, 'missing_token', 'A connect token is required.');
  if (!signingKey.startsWith('key-')) throw new ConnectAuthError(401, 'invalid_token', 'The token is not valid.');
  return signingKey.slice(4);
}

const gateway = new CdpGateway({ authenticate });
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (!gateway.handleRequest(request, response)) response.writeHead(418).end();
  });
  server.on('upgrade', (request, socket, head) => void gateway.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

/** Checks the one error body, and returns it. */
async function expectError(response: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  const where = `${response.url} → ${response.status} ${text}`;
  expect(response.status, where).toBe(status);
  expect(response.headers.get('content-type'), where).toMatch(/^application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(body).sort(), where).toEqual(['code', 'error', 'message', 'requestId', 'statusCode']);
  expect(body, where).toMatchObject({ statusCode: status, error: STATUS_CODES[status], code });
  expect(typeof body.message === 'string' && body.message.length > 0, where).toBe(true);
  expect(body.requestId, where).toBe(response.headers.get('x-request-id'));
  return body;
}

/** Sends a raw upgrade request; resolves with the status line and the body the gateway answered on the socket. */
function rawUpgrade(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const [host, port] = base.split(':');
  return new Promise((resolve, reject) => {
    const socket = connectTcp(Number(port), host, () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: ${base}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    let data = '';
    socket.on('data', (chunk) => {
      data += String(chunk);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
  });
}

const WS_HEADERS = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13' };
const WS_KEY = { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };

describe('what the gateway refuses', () => {
  it('the live view of an unknown session: 404 session_not_running', async () => {
    await expectError(await fetch(`http://${base}/debug/no-such-session/live`), 404, 'session_not_running');
  });

  it('the DevTools frontend of an unknown session: 404 not_found', async () => {
    await expectError(await fetch(`http://${base}/debug/no-such-session/devtools/inspector.html`), 404, 'not_found');
  });

  it("discovery without a credential, or with a bad one: the authenticator's 401", async () => {
    await expectError(await fetch(`http://${base}/json/version`), 401, 'missing_token');
    await expectError(await fetch(`http://${base}/json/list?signingKey=forged`), 401, 'invalid_token');
  });

  it('discovery of a session it does not serve: 410 session_ended', async () => {
    await expectError(await fetch(`http://${base}/json/version?signingKey=key-gone`), 410, 'session_ended');
  });

  it('discovery by another method than GET: 405', async () => {
    await expectError(await fetch(`http://${base}/json/version`, { method: 'POST' }), 405, 'method_not_allowed');
  });

  it('leaves every other request to the server it is part of', async () => {
    expect((await fetch(`http://${base}/v1/sessions`)).status).toBe(418);
  });

  it('upgrades: to no CDP endpoint, without the WebSocket headers, with a bad credential', async () => {
    const cases = [
      { path: '/somewhere/else', headers: { ...WS_HEADERS, ...WS_KEY }, status: 404, code: 'not_found' },
      { path: '/devtools/browser/x?signingKey=key-a', headers: WS_HEADERS, status: 400, code: 'bad_upgrade' },
      { path: '/devtools/browser/x', headers: { ...WS_HEADERS, ...WS_KEY }, status: 401, code: 'missing_token' },
      {
        path: '/devtools/browser/x?signingKey=key-gone',
        headers: { ...WS_HEADERS, ...WS_KEY },
        status: 410,
        code: 'session_ended',
      },
    ];
    for (const c of cases) {
      const { status, body } = await rawUpgrade(c.path, c.headers);
      expect({ path: c.path, status }).toEqual({ path: c.path, status: c.status });
      expect(JSON.parse(body)).toMatchObject({ statusCode: c.status, code: c.code, requestId: expect.any(String) });
    }
  });
});

describe('a session it serves', () => {
  it('is reached with its credential, its discovery URLs point back at the gateway, and it is forgotten once ended', async () => {
    const session = await start({ keepAlive: true });
    gateway.add(session);
    expect(gateway.get(session.id)).toBe(session);
    const query = `?signingKey=key-${session.id}`;

    const version = (await (await fetch(`http://${base}/json/version${query}`)).json()) as Record<string, string>;
    expect(version.Browser).toMatch(/Chrom/);
    expect(version.webSocketDebuggerUrl).toBe(`ws://${base}${session.browserPath}${query}`);
    const targets = (await (await fetch(`http://${base}/json/list${query}`)).json()) as Record<string, string>[];
    const page = targets.find((t) => t.type === 'page');
    expect(page?.webSocketDebuggerUrl).toBe(`ws://${base}/devtools/page/${page?.id}${query}`);
    expect(page && 'devtoolsFrontendUrl' in page).toBe(false);
    const live = await fetch(`http://${base}/debug/${session.id}/live`);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toMatch(/^text\/html/);

    // A client at the rewritten URL drives the session's browser through the gateway.
    const client = await cdpClient(version.webSocketDebuggerUrl as string);
    expect(session.clientCount).toBe(1);
    const pageClient = await cdpClient(page?.webSocketDebuggerUrl as string);
    expect(await pageClient.send('Runtime.evaluate', { expression: '1 + 1', returnByValue: true })).toMatchObject({
      result: { value: 2 },
    });

    await session.release('COMPLETED', 'released by the test');
    expect(await client.closed).toEqual({ code: 1000, reason: 'released by the test' });
    await session.ended;
    expect(gateway.get(session.id)).toBeUndefined();
    expect(gateway.sessions()).toEqual([]);
    await expectError(await fetch(`http://${base}/json/version${query}`), 410, 'session_ended');
    await expectError(await fetch(`http://${base}/debug/${session.id}/live`), 404, 'session_not_running');
  });
});
