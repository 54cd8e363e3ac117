/**
 * The connect edge's server against a stand-in task on loopback (no browser): a task's own refusal reaches the
 * client as its status line and body, an unreachable task is a 502, the task's API-only paths are never relayed,
 * and the stop closes every client with 1012. The real path, with Chromium in tasks, is the distributed suite's.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signConnectToken, verifyConnectToken } from '@wallcrawler/contracts';
import { afterEach, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { type EdgeServer, startEdgeServer } from '../src/edge/edge-server.js';
import { SessionAddresses } from '../src/edge/session-addresses.js';
import { sessionsReader } from '../src/edge/sessions-reader.js';

const secret = randomBytes(32);
const closing: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

/** A task that accepts WebSocket upgrades on `/devtools/browser`, and refuses `/devtools/page/*` with a 410. */
async function standInTask(): Promise<{ port: number; server: Server }> {
  const sockets = new WebSocketServer({ noServer: true });
  const server = createServer((_request, response) => response.writeHead(404).end());
  server.on('upgrade', (request, socket, head) => {
    if (request.url?.startsWith('/devtools/page/')) {
      const body = JSON.stringify({
        statusCode: 410,
        error: 'Gone',
        code: 'session_ended',
        message: 'ended',
        requestId: 'r',
      });
      socket.end(
        `HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => ws.on('message', (data) => ws.send(data)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closing.push(() => {
    sockets.close();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, server };
}

async function edgeFor(
  endpoint: string,
  read: ConstructorParameters<typeof SessionAddresses>[0]['read'] = async () => ({
    status: 'RUNNING',
    projectId: 'p',
    connectEndpoint: endpoint,
  }),
): Promise<EdgeServer> {
  const edge = await startEdgeServer({
    host: '127.0.0.1',
    port: 0,
    pingMs: 60_000,
    verify: (token) => verifyConnectToken(secret, token),
    addresses: new SessionAddresses({ read }),
  });
  closing.push(() => edge.close());
  return edge;
}

const token = () =>
  signConnectToken(secret, { sessionId: 's', projectId: 'p', expiresAt: new Date(Date.now() + 60_000) });

function open(url: string): Promise<{ socket?: WebSocket; status?: number; body?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once('error', reject);
  });
}

it("relays messages, passes a task's refusal on, and closes every client with 1012 when it stops", async () => {
  const task = await standInTask();
  const edge = await edgeFor(`ws://127.0.0.1:${task.port}`);
  const ws = edge.url.replace('http', 'ws');
  const { socket } = await open(`${ws}/devtools/browser?signingKey=${await token()}`);
  if (!socket) throw new Error('no socket');
  const echoed = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
  socket.send('{"id":1}');
  expect(await echoed).toBe('{"id":1}');
  expect(edge.connections()).toBe(1);

  const refused = await open(`${ws}/devtools/page/T?signingKey=${await token()}`);
  expect(refused.status).toBe(410);
  expect(JSON.parse(refused.body ?? '')).toMatchObject({ statusCode: 410, code: 'session_ended' });

  // The task's API-only paths are not the edge's to serve.
  for (const path of ['/stagehand/start', '/files/logs', '/pool/claim']) {
    const answer = await fetch(`${edge.url}${path}`, { method: 'GET' });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ statusCode: 404, code: 'not_found' });
  }
  expect((await fetch(`${edge.url}/health`)).status).toBe(200);

  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await edge.close();
  expect(await closed).toBe(1012);
});

it('answers 502 with the one error body when the task cannot be reached', async () => {
  const edge = await edgeFor('ws://127.0.0.1:1');
  const answer = await open(`${edge.url.replace('http', 'ws')}/devtools/browser?signingKey=${await token()}`);
  expect(answer.status).toBe(502);
  expect(JSON.parse(answer.body ?? '')).toMatchObject({ statusCode: 502, code: 'browser_unavailable' });
  const discovery = await fetch(`${edge.url}/json/version?signingKey=${await token()}`);
  expect(discovery.status).toBe(502);
});

it('answers 503 store_unavailable when the sessions table is out of reach, and serves the next request', async () => {
  // The edge's own DynamoDB reader, at a port where nothing listens: the SDK's real failure, within its timeouts.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const table = sessionsReader({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', table: 'sessions' });
  closing.push(() => table.destroy());
  const edge = await edgeFor('', table.read);
  for (let i = 0; i < 2; i++) {
    const answer = await open(`${edge.url.replace('http', 'ws')}/devtools/browser?signingKey=${await token()}`);
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body ?? '')).toMatchObject({ statusCode: 503, code: 'store_unavailable' });
  }
  const discovery = await fetch(`${edge.url}/json/version?signingKey=${await token()}`);
  expect(discovery.status).toBe(503);
  expect(await discovery.json()).toMatchObject({ statusCode: 503, code: 'store_unavailable' });
  expect((await fetch(`${edge.url}/health`)).status).toBe(200);
});
