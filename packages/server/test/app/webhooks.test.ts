import Browserbase, { AuthenticationError, BadRequestError, ConflictError, NotFoundError } from '@browserbasehq/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserbaseProject, expectShape } from '../support/browserbase.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Webhooks' CRUD and secret rotation through the official `@browserbasehq/sdk` (`webhooks.*`), over real HTTP
 * against the app on a real SQLite store: auth, project scoping, validation, the private-target rule and its
 * override, cursor pages, and the delivery log route. Deliveries themselves are the e2e file's.
 */

const WEBHOOK = {
  id: 'string',
  createdAt: 'date',
  updatedAt: 'date',
  endpoint: 'string',
  eventTypes: 'array',
  projectId: 'string',
} as const;
// A public address, given as an IP so that no DNS is needed (this machine has none).
const PUBLIC = 'https://93.184.215.14/hooks';

// biome-ignore lint/suspicious/noExplicitAny: the SDK types eventTypes as Browserbase's function events only.
const sessionEvents = ['session.created', 'session.ended'] as any;

describe('@browserbasehq/sdk webhooks.* (private targets refused)', () => {
  let app: TestApp;
  let client: Browserbase;
  let other: Browserbase;
  let projectId: string;

  beforeAll(async () => {
    app = await startTestApp();
    const mine = await browserbaseProject(app, 'hooks', 3);
    projectId = mine.project.id;
    client = mine.client;
    other = (await browserbaseProject(app, 'hooks-other', 3)).client;
  });
  afterAll(() => app?.close());

  it('creates (with a whsec_ secret shown once), retrieves, updates, lists and deletes', async () => {
    const created = await client.webhooks.create({ endpoint: PUBLIC, eventTypes: sessionEvents });
    expectShape(created, { ...WEBHOOK, secret: 'string' }, {}, 'WebhookCreateResponse');
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ endpoint: PUBLIC, projectId, eventTypes: ['session.created', 'session.ended'] });

    const read = await client.webhooks.retrieve(created.id);
    expectShape(read, WEBHOOK, {}, 'Webhook');
    expect(read).not.toHaveProperty('secret');
    // The secret is sealed at rest: the store holds no copy of it in the clear.
    const stored = await app.store.getWebhook(projectId, created.id);
    expect(JSON.stringify(stored)).not.toContain(created.secret);

    const updated = await client.webhooks.update(created.id, { eventTypes: ['functions.builds.failed'] });
    expect(updated.eventTypes).toEqual(['functions.builds.failed']);
    expect(updated.endpoint).toBe(PUBLIC);
    const moved = await client.webhooks.update(created.id, { endpoint: 'https://93.184.215.14/other' });
    expect(moved.endpoint).toBe('https://93.184.215.14/other');
    expect(moved.eventTypes).toEqual(['functions.builds.failed']);

    await client.webhooks.delete(created.id);
    await expect(client.webhooks.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.webhooks.delete(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists newest first in cursor pages', async () => {
    const { client: own } = await browserbaseProject(app, 'hooks-pages', 3);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await own.webhooks.create({ endpoint: `${PUBLIC}/${i}`, eventTypes: sessionEvents })).id);
    }
    const first = await own.webhooks.list({ limit: 2 });
    expectShape(first, { data: 'array', limit: 'integer' }, { nextCursor: 'string' }, 'WebhookListResponse');
    const seen = first.data.map((w) => w.id);
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await own.webhooks.list({ limit: 2, cursor });
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((w) => w.id));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    expect((await own.webhooks.list()).data).toHaveLength(5);
    await expect(own.webhooks.list({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(BadRequestError);
  });

  it("scopes every call to the key's project: another project's webhook is a 404", async () => {
    const created = await client.webhooks.create({ endpoint: `${PUBLIC}/scoped`, eventTypes: sessionEvents });
    await expect(other.webhooks.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.webhooks.update(created.id, { endpoint: `${PUBLIC}/x` })).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.webhooks.rotateSecret(created.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.webhooks.delete(created.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await other.webhooks.list()).data.map((w) => w.id)).not.toContain(created.id);
    const log = await fetch(`${app.url}/v1/webhooks/${created.id}/deliveries`, {
      headers: { 'x-bb-api-key': other.apiKey },
    });
    expect(log.status).toBe(404);
    expect((await log.json()).code).toBe('webhook_not_found');
    // Still there for its own project.
    expect((await client.webhooks.retrieve(created.id)).id).toBe(created.id);
  });

  it('needs an API key', async () => {
    const anonymous = new Browserbase({ apiKey: 'wc_not_a_key_at_all_0000', baseURL: app.url, maxRetries: 0 });
    await expect(anonymous.webhooks.list()).rejects.toBeInstanceOf(AuthenticationError);
    const response = await fetch(`${app.url}/v1/webhooks`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
  });

  it('refuses bad input with a 400 in the one error body', async () => {
    const refused = async (body: unknown, code: string) => {
      const error = await client.webhooks.create(body as never, { maxRetries: 0 }).catch((e: unknown) => e);
      expect(error, JSON.stringify(body)).toBeInstanceOf(BadRequestError);
      const payload = (error as BadRequestError).error as Record<string, unknown>;
      expectShape(
        payload,
        { statusCode: 'integer', error: 'string', code: 'string', message: 'string', requestId: 'string' },
        { details: 'array' },
        'Error',
      );
      expect(payload.code, JSON.stringify(body)).toBe(code);
      return payload;
    };
    await refused({ endpoint: 'ftp://93.184.215.14/x', eventTypes: sessionEvents }, 'invalid_webhook_endpoint');
    await refused({ endpoint: 'not a url', eventTypes: sessionEvents }, 'invalid_webhook_endpoint');
    await refused({ endpoint: PUBLIC, eventTypes: ['session.exploded'] }, 'validation_failed');
    await refused({ endpoint: PUBLIC, eventTypes: [] }, 'validation_failed');
    await refused({ endpoint: PUBLIC }, 'validation_failed');
    await refused({ endpoint: PUBLIC, eventTypes: sessionEvents, extra: 1 }, 'validation_failed');
    for (const endpoint of [
      'http://127.0.0.1:9/x',
      'http://localhost:8080/x',
      'http://10.1.2.3/x',
      'http://192.168.0.10/x',
      'http://172.20.0.1/x',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/x',
      'http://[fe80::1]/x',
      'http://[::ffff:127.0.0.1]/x',
    ]) {
      const body = await refused({ endpoint, eventTypes: sessionEvents }, 'invalid_webhook_endpoint');
      expect(body.message).toContain('WALLCRAWLER_WEBHOOKS_ALLOW_PRIVATE');
    }
    // An update is checked the same way.
    const created = await client.webhooks.create({ endpoint: `${PUBLIC}/update-check`, eventTypes: sessionEvents });
    await expect(
      client.webhooks.update(created.id, { endpoint: 'http://127.0.0.1/x' }, { maxRetries: 0 }),
    ).rejects.toBeInstanceOf(BadRequestError);
    expect((await client.webhooks.retrieve(created.id)).endpoint).toBe(`${PUBLIC}/update-check`);
  });

  it('registers an endpoint once per project (409)', async () => {
    await client.webhooks.create({ endpoint: `${PUBLIC}/once`, eventTypes: sessionEvents });
    await expect(
      client.webhooks.create({ endpoint: `${PUBLIC}/once`, eventTypes: sessionEvents }, { maxRetries: 0 }),
    ).rejects.toBeInstanceOf(ConflictError);
    // Another project may register it.
    expect((await other.webhooks.create({ endpoint: `${PUBLIC}/once`, eventTypes: sessionEvents })).id).toBeTruthy();
  });

  it('rotates the secret: the old one keeps signing for a grace period unless revoked immediately', async () => {
    const created = await client.webhooks.create({ endpoint: `${PUBLIC}/rotate`, eventTypes: sessionEvents });
    const { secret } = await client.webhooks.rotateSecret(created.id);
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(created.secret);
    const graced = await app.store.getWebhook(projectId, created.id);
    expect(graced?.secrets).toHaveLength(2);
    expect(graced?.secrets[0]?.retiresAt).toBeUndefined();
    expect(graced?.secrets[1]?.retiresAt).toBeInstanceOf(Date);

    const revoked = await client.webhooks.rotateSecret(created.id, { revokeImmediately: true });
    expect(revoked.secret).not.toBe(secret);
    expect((await app.store.getWebhook(projectId, created.id))?.secrets).toHaveLength(1);
    await expect(
      client.webhooks.rotateSecret(created.id, { revokeImmediately: 'yes' } as never, { maxRetries: 0 }),
    ).rejects.toBeInstanceOf(BadRequestError);
  });

  it('reads an empty delivery log for a webhook nothing was delivered to', async () => {
    const created = await client.webhooks.create({ endpoint: `${PUBLIC}/log`, eventTypes: sessionEvents });
    const response = await fetch(`${app.url}/v1/webhooks/${created.id}/deliveries`, {
      headers: { 'x-bb-api-key': client.apiKey },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: [] });
  });
});

describe('webhooks with WALLCRAWLER_WEBHOOKS_ALLOW_PRIVATE=true', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ WALLCRAWLER_WEBHOOKS_ALLOW_PRIVATE: 'true' });
  });
  afterAll(() => app?.close());

  it('accepts loopback and private targets, but still only http(s)', async () => {
    const { client } = await browserbaseProject(app, 'private-ok', 3);
    for (const endpoint of [
      'http://127.0.0.1:9/x',
      'http://localhost:8080/x',
      'http://10.1.2.3/x',
      'http://[::1]:8080/x',
    ]) {
      expect((await client.webhooks.create({ endpoint, eventTypes: sessionEvents })).endpoint).toBe(endpoint);
    }
    await expect(
      client.webhooks.create({ endpoint: 'file:///etc/passwd', eventTypes: sessionEvents }, { maxRetries: 0 }),
    ).rejects.toBeInstanceOf(BadRequestError);
  });
});
