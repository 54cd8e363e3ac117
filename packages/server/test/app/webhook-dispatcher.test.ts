import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { verifyWebhook } from '@wallcrawler/sdk';
import { tempDir, waitFor } from '@wallcrawler/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/sqlite/sqlite-store.js';
import { newProject } from '../../src/bootstrap.js';
import { Census } from '../../src/census.js';
import { WebhookDispatcher } from '../../src/services/webhook-dispatcher.js';
import { WebhookSecrets } from '../../src/services/webhook-secrets.js';
import { WebhookService } from '../../src/services/webhook-service.js';
import { WebhookTargets } from '../../src/services/webhook-targets.js';
import { sessionRecord } from '../support/records.js';

/**
 * The dispatcher over a real SQLite store and a real receiver on loopback, without the API: what only it decides.
 * The target rule is checked again at delivery time; a rotation signs with both secrets; closing drops the
 * retries still waiting and leaves nothing running.
 */

const dir = tempDir('wallcrawler-dispatch-');
let store: SqliteStore;
let receiver: { url: string; received: { headers: IncomingHttpHeaders; body: string }[]; close(): Promise<void> };
const secrets = new WebhookSecrets(randomBytes(32));

beforeAll(async () => {
  store = await SqliteStore.open(join(dir.path, 'wallcrawler.db'));
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(req.url === '/fail' ? 503 : 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
});
afterAll(async () => {
  await receiver?.close();
  await store?.close();
  dir.remove();
});

async function project() {
  const p = newProject(`p-${randomBytes(4).toString('hex')}`);
  await store.createProject(p);
  return p;
}

describe('WebhookDispatcher', () => {
  it('checks the target again at delivery: one that became private gets nothing, and the log says why', async () => {
    const p = await project();
    // Saved while private targets were allowed; delivered by a server that refuses them.
    const { webhook } = await new WebhookService({ store, secrets, targets: new WebhookTargets(true) }).create(p.id, {
      endpoint: `${receiver.url}/moved`,
      eventTypes: ['session.created'],
    });
    const census = new Census();
    const dispatcher = new WebhookDispatcher({
      store,
      secrets,
      targets: new WebhookTargets(false),
      maxAttempts: 1,
      census,
    });
    dispatcher.publish({ type: 'session.created', session: sessionRecord(p.id), at: new Date() });
    const [attempt] = await waitFor(async () => {
      const log = await store.listWebhookAttempts(webhook.id);
      return log.length > 0 ? log : undefined;
    });
    expect(attempt).toMatchObject({ attempt: 1, succeeded: false });
    expect(attempt?.error).toMatch(/resolves to 127\.0\.0\.1, a loopback, private or link-local address/);
    expect(attempt?.responseStatus).toBeUndefined();
    expect(receiver.received.filter((r) => r.headers['x-wallcrawler-delivery'] === attempt?.eventId)).toEqual([]);
    await dispatcher.close();
    expect(census.read()).toEqual({ webhookDeliveries: 0, webhookRetries: 0 });
  });

  it('signs with both secrets during a rotation, and with the new one only after revokeImmediately', async () => {
    const p = await project();
    const service = new WebhookService({ store, secrets, targets: new WebhookTargets(true) });
    const { webhook, secret: first } = await service.create(p.id, {
      endpoint: `${receiver.url}/rotate`,
      eventTypes: ['session.running'],
    });
    const second = await service.rotateSecret(p.id, webhook.id);
    const dispatcher = new WebhookDispatcher({ store, secrets, targets: new WebhookTargets(true) });
    const deliver = async () => {
      const session = sessionRecord(p.id, { status: 'RUNNING' });
      dispatcher.publish({ type: 'session.running', session, at: new Date() });
      return waitFor(() => receiver.received.find((r) => r.body.includes(session.id)));
    };
    const during = await deliver();
    const signature = during.headers['x-wallcrawler-signature'] as string;
    expect(signature.match(/v1=/g)).toHaveLength(2);
    for (const secret of [first, second]) {
      expect((await verifyWebhook({ payload: during.body, signature, secret })).type).toBe('session.running');
    }

    const third = await service.rotateSecret(p.id, webhook.id, { revokeImmediately: true });
    const after = await deliver();
    const signed = after.headers['x-wallcrawler-signature'] as string;
    expect(signed.match(/v1=/g)).toHaveLength(1);
    expect((await verifyWebhook({ payload: after.body, signature: signed, secret: third })).type).toBe(
      'session.running',
    );
    await expect(verifyWebhook({ payload: after.body, signature: signed, secret: [first, second] })).rejects.toThrow();
    await dispatcher.close();
  });

  it('stops retrying at its last attempt, and closing drops the retries still waiting', async () => {
    const p = await project();
    const service = new WebhookService({ store, secrets, targets: new WebhookTargets(true) });
    const { webhook } = await service.create(p.id, { endpoint: `${receiver.url}/fail`, eventTypes: ['session.ended'] });
    const census = new Census();
    const dispatcher = new WebhookDispatcher({
      store,
      secrets,
      targets: new WebhookTargets(true),
      maxAttempts: 3,
      retryBaseMs: 10,
      census,
    });
    const ended = sessionRecord(p.id, { status: 'COMPLETED', endedAt: new Date(), endReason: 'done' });
    dispatcher.publish({ type: 'session.ended', session: ended, at: new Date() });
    const log = await waitFor(async () => {
      const attempts = await store.listWebhookAttempts(webhook.id);
      return attempts.length >= 3 ? attempts : undefined;
    });
    expect(log.map((a) => [a.attempt, a.responseStatus, a.succeeded, a.nextAttemptAt === undefined])).toEqual([
      [3, 503, false, true],
      [2, 503, false, false],
      [1, 503, false, false],
    ]);

    await dispatcher.close();
    expect(census.read()).toEqual({ webhookDeliveries: 0, webhookRetries: 0 });

    // A slow retry, dropped by close: nothing stays scheduled.
    const slowCensus = new Census();
    const slow = new WebhookDispatcher({
      store,
      secrets,
      targets: new WebhookTargets(true),
      retryBaseMs: 600_000,
      census: slowCensus,
    });
    slow.publish({ type: 'session.ended', session: { ...ended, id: 'another' }, at: new Date() });
    await waitFor(() => slowCensus.read().webhookRetries === 1);
    await slow.close();
    expect(slowCensus.read()).toEqual({ webhookDeliveries: 0, webhookRetries: 0 });
    // Closed: a new event is not taken.
    slow.publish({ type: 'session.ended', session: ended, at: new Date() });
    expect(slowCensus.read()).toEqual({ webhookDeliveries: 0, webhookRetries: 0 });
  });
});
