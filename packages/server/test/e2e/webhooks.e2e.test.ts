import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Browserbase from '@browserbasehq/sdk';
import { verifyWebhook, WEBHOOK_SIGNATURE_HEADER, type WebhookEvent } from '@wallcrawler/sdk';
import { expectNothingLeft, waitFor } from '@wallcrawler/test-support';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserbaseProject } from '../support/browserbase.js';

/**
 * Webhook deliveries from a real server with real Chromium sessions to a real receiver (an HTTP server on
 * loopback, hence WALLCRAWLER_WEBHOOKS_ALLOW_PRIVATE=true): each session's created, running and ended events
 * arrive signed and verify with `@wallcrawler/sdk`'s helper; a failing receiver sees retries, which the delivery
 * log shows; a hanging receiver delays neither a create nor a release; another project's receiver gets nothing.
 */

const t = useTestServer({ WALLCRAWLER_WEBHOOKS_ALLOW_PRIVATE: 'true' });

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver: every request is kept; `answer` decides what each gets (it may leave the response hanging). */
async function startReceiver(answer: (request: Received, response: ServerResponse, index: number) => void) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      answer(request, res, received.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
const ok = (_: Received, res: ServerResponse) => res.writeHead(204).end();

const verify = (r: Received, secret: string) =>
  verifyWebhook({ payload: r.body, signature: r.headers[WEBHOOK_SIGNATURE_HEADER] as string, secret });

// biome-ignore lint/suspicious/noExplicitAny: the SDK types eventTypes as Browserbase's function events only.
const ALL = ['session.created', 'session.running', 'session.ended'] as any;
// biome-ignore lint/suspicious/noExplicitAny: as above.
const ENDED = ['session.ended'] as any;

describe('webhook deliveries', () => {
  const receivers: Receiver[] = [];
  let mine: Browserbase;
  let otherReceiver: Receiver;

  beforeAll(async () => {
    mine = (await browserbaseProject(t, 'hooks-e2e', 5)).client;
    // Another project, subscribed to everything: nothing of the first project's may reach it.
    const other = (await browserbaseProject(t, 'hooks-e2e-other', 5)).client;
    otherReceiver = await startReceiver(ok);
    receivers.push(otherReceiver);
    await other.webhooks.create({ endpoint: `${otherReceiver.url}/other`, eventTypes: ALL });
  });

  afterAll(async () => {
    // Before the server closes: every session ended and left nothing, whatever the receivers did.
    await expectNothingLeft(t.dataDir);
    for (const receiver of receivers) await receiver.close();
  });

  it("delivers a session's created, running and ended events, signed; another project's receiver gets none", {
    timeout: 60_000,
  }, async () => {
    const receiver = await startReceiver(ok);
    receivers.push(receiver);
    const hook = await mine.webhooks.create({ endpoint: `${receiver.url}/hooks`, eventTypes: ALL });

    const session = await mine.sessions.create({ userMetadata: { run: 'webhooks' } });
    await mine.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    const forSession = () => receiver.received.filter((r) => r.body.includes(session.id));
    await waitFor(() => forSession().length >= 3, { message: 'three deliveries', timeout: 20_000 });

    const events = await Promise.all(forSession().map((r) => verify(r, hook.secret)));
    expect(events.map((e) => e.type).sort()).toEqual(['session.created', 'session.ended', 'session.running']);
    const byType = Object.fromEntries(events.map((e) => [e.type, e])) as Record<WebhookEvent['type'], WebhookEvent>;
    expect(byType['session.created'].data).toMatchObject({ sessionId: session.id, status: 'PENDING' });
    expect(byType['session.running'].data).toMatchObject({ sessionId: session.id, status: 'RUNNING' });
    expect(byType['session.ended'].data).toMatchObject({
      sessionId: session.id,
      status: 'COMPLETED',
      reason: 'The session was released',
      session: { id: session.id, userMetadata: { run: 'webhooks' }, endReason: 'The session was released' },
    });
    for (const e of events) expect(e.projectId).toBe(session.projectId);
    for (const r of forSession()) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-wallcrawler-event']).toBe(JSON.parse(r.body).type);
      expect(r.headers['x-wallcrawler-delivery']).toBe(JSON.parse(r.body).id);
    }
    // A wrong secret does not verify.
    await expect(verify(forSession()[0] as Received, 'whsec_wrong')).rejects.toThrow(/No signature/);
    expect(otherReceiver.received.filter((r) => r.body.includes(session.id))).toEqual([]);

    // The log shows each delivery's one successful attempt.
    const log = await deliveries(hook.id);
    expect(log.filter((a) => a.succeeded && a.responseStatus === 204 && a.attempt === 1)).toHaveLength(3);
  });

  it('retries a delivery the receiver fails, and the delivery log shows each attempt', {
    timeout: 60_000,
  }, async () => {
    // The first request fails with a 500; every later one succeeds.
    const receiver = await startReceiver((_, res, index) => res.writeHead(index === 0 ? 500 : 200).end('ok'));
    receivers.push(receiver);
    const hook = await mine.webhooks.create({ endpoint: `${receiver.url}/flaky`, eventTypes: ENDED });
    const session = await mine.sessions.create();
    await mine.sessions.update(session.id, { status: 'REQUEST_RELEASE' });

    await waitFor(() => receiver.received.length >= 2, { message: 'a retry', timeout: 30_000 });
    const [first, second] = receiver.received as [Received, Received];
    expect(second.headers['x-wallcrawler-delivery']).toBe(first.headers['x-wallcrawler-delivery']);
    expect([first.headers['x-wallcrawler-attempt'], second.headers['x-wallcrawler-attempt']]).toEqual(['1', '2']);
    // The retry is signed afresh, and verifies.
    expect((await verify(second, hook.secret)).data.sessionId).toBe(session.id);

    const log = await waitFor(async () => {
      const attempts = await deliveries(hook.id);
      return attempts.length >= 2 ? attempts : undefined;
    });
    const [latest, earliest] = log;
    expect(earliest).toMatchObject({
      attempt: 1,
      eventType: 'session.ended',
      responseStatus: 500,
      succeeded: false,
      error: 'The receiver answered 500.',
    });
    expect(earliest?.nextAttemptAt).toEqual(expect.any(String));
    expect(latest).toMatchObject({
      attempt: 2,
      responseStatus: 200,
      succeeded: true,
      error: null,
      nextAttemptAt: null,
    });
    expect(latest?.eventId).toBe(earliest?.eventId);
  });

  it('answers a create and a release while the receiver hangs', { timeout: 60_000 }, async () => {
    // Never answers: if a create or a release waited for a delivery, it would never return.
    const receiver = await startReceiver(() => {});
    receivers.push(receiver);
    await mine.webhooks.create({ endpoint: `${receiver.url}/hang`, eventTypes: ALL });
    const session = await mine.sessions.create();
    const released = await mine.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    expect(released.status).toBe('COMPLETED');
    // The deliveries were made, and are still waiting for the receiver.
    await waitFor(() => receiver.received.filter((r) => r.body.includes(session.id)).length >= 3, {
      message: 'the hanging deliveries',
    });
  });

  async function deliveries(webhookId: string) {
    const response = await fetch(`${t.url}/v1/webhooks/${webhookId}/deliveries`, {
      headers: { 'x-bb-api-key': mine.apiKey },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: Record<string, unknown>[] }).data;
  }
});
