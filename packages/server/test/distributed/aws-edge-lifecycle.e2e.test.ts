/**
 * How the connect edge's WebSockets live and end, with a short clock: CloudFront's 10-minute idle timeout is the
 * TLS front's IDLE_MS here, and the edge pings every PING_MS, so that "11 minutes of silence" is a few seconds. A
 * task lost under a client closes it with 1011 and a reason; a gateway restart closes every client with a close
 * frame (1012), the old process exits 0, and the new one serves.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Browserbase from '@browserbasehq/sdk';
import { tempDir, waitFor } from '@wallcrawler/test-support';
import { issueServerCertificate } from '@wallcrawler/test-support/throwaway-ca';
import { startTlsFront } from '@wallcrawler/test-support/tls-front';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { expectNothingLeft, taskOfSession } from '../support/aws-checks.js';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

/** The TLS front drops a WebSocket idle this long (CloudFront: 10 minutes). */
const IDLE_MS = 4_000;
/** The edge's ping interval (the stack's: 60 s). */
const PING_MS = 1_000;

let aws: AwsTopology;
let bb: Browserbase;

beforeAll(async () => {
  aws = await startAwsTopology({ concurrency: 3, edge: { pingMs: PING_MS, idleTimeoutMs: IDLE_MS } });
  bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
});
afterAll(() => aws?.close());
afterEach(() => expectNothingLeft(aws, bb));

const release = (id: string) => bb.sessions.update(id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });

interface Client {
  socket: WebSocket;
  pings: number;
  closed: Promise<{ code: number; reason: string }>;
  /** Sends a CDP command and resolves with its answer. */
  call(method: string): Promise<Record<string, unknown>>;
}

/** A plain `ws` client on the session's connectUrl (it answers pings, as every CDP client's library does). */
async function connectClient(url: string): Promise<Client> {
  const socket = new WebSocket(url);
  const client: Client = {
    socket,
    pings: 0,
    closed: new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) }))),
    call: (method) =>
      new Promise((resolve) => {
        const id = Math.floor(Math.random() * 1e9);
        const onMessage = (data: Buffer) => {
          const message = JSON.parse(String(data)) as { id?: number };
          if (message.id !== id) return;
          socket.off('message', onMessage);
          resolve(message);
        };
        socket.on('message', onMessage);
        socket.send(JSON.stringify({ id, method }));
      }),
  };
  socket.on('ping', () => client.pings++);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return client;
}

describe("the edge's WebSockets", () => {
  it('a quiet socket survives many idle timeouts of the front, kept by the pings', async () => {
    // The front's rule first: a WebSocket on which nothing crosses is dropped after IDLE_MS.
    const quiet = new WebSocketServer({ noServer: true });
    const origin = createServer();
    origin.on('upgrade', (request, socket, head) => quiet.handleUpgrade(request, socket, head, () => {}));
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const dir = tempDir('wc-front-');
    const control = await startTlsFront({
      ...issueServerCertificate(inject('edgeCa'), dir.path),
      api: () => '',
      edge: () => `http://127.0.0.1:${(origin.address() as AddressInfo).port}`,
      idleTimeoutMs: IDLE_MS,
    });
    try {
      const unpinged = await connectClient(`${control.url.replace('https', 'wss')}/devtools/browser`);
      await unpinged.closed;
      expect(control.idleDrops()).toBe(1);
    } finally {
      await control.close();
      quiet.close();
      origin.close();
      dir.remove();
    }

    // Through the edge: silent for far longer than the front's idle timeout (11 minutes against CloudFront's 10
    // is 1.1 of it; this waits for 3 of them), then still answering.
    const session = await bb.sessions.create({ projectId: aws.projectId, keepAlive: true });
    const client = await connectClient(session.connectUrl);
    const dropsBefore = aws.edge?.front.idleDrops();
    await waitFor(() => client.pings >= (3 * IDLE_MS) / PING_MS, {
      timeout: 60_000,
      message: 'the edge to ping through three idle timeouts',
    });
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    expect(aws.edge?.front.idleDrops()).toBe(dropsBefore);
    expect(await client.call('Browser.getVersion')).toMatchObject({ result: { protocolVersion: expect.any(String) } });
    client.socket.close();
    await release(session.id);
  });

  it("closes the client with 1011 and the reason when the session's task is lost", async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId, keepAlive: true });
    const client = await connectClient(session.connectUrl);
    expect(await client.call('Browser.getVersion')).toHaveProperty('result');
    aws.ecs.killTask(taskOfSession(aws, session.id).taskArn);
    expect(await client.closed).toEqual({ code: 1011, reason: "The connection to the session's browser was lost." });
  });

  it('a gateway restart closes every client with a close frame, and the new gateway serves', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId, keepAlive: true });
    const clients = await Promise.all([connectClient(session.connectUrl), connectClient(session.connectUrl)]);
    const edge = aws.edge?.process;
    if (!edge) throw new Error('the topology has no edge');
    expect(await edge.restart()).toBe(0);
    for (const client of clients)
      expect(await client.closed).toEqual({ code: 1012, reason: expect.stringMatching(/restarting/) });
    // Its clients reconnect to the same session (kept alive) through the new process.
    const again = await connectClient(session.connectUrl);
    expect(await again.call('Browser.getVersion')).toHaveProperty('result');
    again.socket.close();
    await release(session.id);
  });
});
