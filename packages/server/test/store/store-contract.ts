import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiKeyRecord } from '../../src/api-keys.js';
import { newProject } from '../../src/bootstrap.js';
import {
  ContextInUseError,
  ContextNameTakenError,
  ProjectNotFoundError,
  WebhookEndpointTakenError,
} from '../../src/domain/errors.js';
import type { WebhookRecord } from '../../src/domain/webhook.js';
import type { Store } from '../../src/ports/store.js';
import { WEBHOOK_LOG_SIZE } from '../../src/ports/webhook-store.js';
import { sessionRecord } from '../support/records.js';

/** A store under test, and how to dispose of it. */
export interface StoreFixture {
  store: Store;
  /** Opens a second handle on the same data (another process, in production). */
  reopen(): Promise<Store>;
  dispose(): Promise<void>;
}

/**
 * The behaviour every `Store` implementation must have. Run it once per adapter: SQLite now, DynamoDB when
 * it exists.
 */
export function describeStoreContract(name: string, makeFixture: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fixture = await makeFixture();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('keeps projects, listing them oldest first or by id', async () => {
      const a = newProject('a', {}, new Date('2026-01-01T00:00:00Z'));
      const b = newProject('b', { concurrency: 3, defaultTimeout: 900 }, new Date('2026-01-02T00:00:00Z'));
      await store.createProject(b);
      await store.createProject(a);
      expect(await store.getProject(b.id)).toEqual(b);
      expect(await store.getProject('missing')).toBeUndefined();
      expect((await store.listProjects()).map((p) => p.name)).toEqual(['a', 'b']);
      expect(await store.listProjects([b.id])).toEqual([b]);
      expect(await store.listProjects([])).toEqual([]);
    });

    it("keeps a project's model endpoint apart from the project, replaces and deletes it", async () => {
      const [p1, p2] = [newProject('p1'), newProject('p2')];
      await store.createProject(p1);
      await store.createProject(p2);
      const at = new Date('2026-06-01T00:00:00.000Z');
      const model = {
        projectId: p1.id,
        baseUrl: 'https://models.example/v1',
        model: 'gpt-4.1-mini',
        api: 'responses' as const,
        sealedApiKey: 'v1.sealed-bytes',
        updatedAt: at,
      };
      await store.setProjectModel(model);
      expect(await store.getProjectModel(p1.id)).toEqual(model);
      expect(await store.getProjectModel(p2.id)).toBeUndefined();
      // The project itself reads as before: the model is not one of its fields.
      expect(await store.getProject(p1.id)).toEqual(p1);
      expect(await store.listProjects([p1.id])).toEqual([p1]);
      const keyless = {
        projectId: p1.id,
        baseUrl: 'http://127.0.0.1:11434/v1',
        model: 'qwen',
        api: 'chat' as const,
        updatedAt: at,
      };
      await store.setProjectModel(keyless);
      const other = await fixture.reopen();
      try {
        expect(await other.getProjectModel(p1.id)).toEqual(keyless);
      } finally {
        await other.close();
      }
      await expect(store.setProjectModel({ ...model, projectId: 'missing' })).rejects.toBeInstanceOf(
        ProjectNotFoundError,
      );
      expect(await store.deleteProjectModel(p1.id)).toBe(true);
      expect(await store.deleteProjectModel(p1.id)).toBe(false);
      expect(await store.getProjectModel(p1.id)).toBeUndefined();
      expect(await store.getProject(p1.id)).toEqual(p1);
    });

    it('keeps contexts, with names unique per project whatever their case, and deletes them', async () => {
      const [p1, p2] = [newProject('p1'), newProject('p2')];
      await store.createProject(p1);
      await store.createProject(p2);
      const at = new Date('2026-05-01T00:00:00.000Z');
      const named = { id: 'ctx-1', projectId: p1.id, name: 'Login', createdAt: at, updatedAt: at };
      const unnamed = { id: 'ctx-2', projectId: p1.id, createdAt: at, updatedAt: at };
      await store.createContext(named);
      await store.createContext(unnamed);
      expect(await store.getContext('ctx-1')).toEqual(named);
      expect(await store.getContext('ctx-2')).toEqual(unnamed);
      expect(await store.getContext('missing')).toBeUndefined();
      await expect(store.createContext({ ...named, id: 'ctx-3', name: 'login' })).rejects.toBeInstanceOf(
        ContextNameTakenError,
      );
      // Another project may use the name.
      await store.createContext({ ...named, id: 'ctx-4', projectId: p2.id });

      const later = new Date('2026-05-02T00:00:00.000Z');
      expect(await store.touchContext('ctx-1', later)).toBe(true);
      expect((await store.getContext('ctx-1'))?.updatedAt).toEqual(later);
      expect(await store.touchContext('missing', later)).toBe(false);

      expect(await store.deleteContext('ctx-1')).toBe(true);
      expect(await store.deleteContext('ctx-1')).toBe(false);
      expect(await store.getContext('ctx-1')).toBeUndefined();
      // The name is free again.
      await store.createContext({ ...named, id: 'ctx-5' });
    });

    it('keeps extensions apart from contexts, and deletes them', async () => {
      const p = newProject('p');
      await store.createProject(p);
      const at = new Date('2026-05-01T00:00:00.000Z');
      const extension = { id: 'ext-1', projectId: p.id, fileName: 'ext.zip', createdAt: at, updatedAt: at };
      await store.createExtension(extension);
      expect(await store.getExtension('ext-1')).toEqual(extension);
      expect(await store.getContext('ext-1')).toBeUndefined();
      await store.createContext({ id: 'ctx-1', projectId: p.id, createdAt: at, updatedAt: at });
      expect(await store.getExtension('ctx-1')).toBeUndefined();
      expect(await store.deleteExtension('ctx-1')).toBe(false);
      expect(await store.deleteExtension('ext-1')).toBe(true);
      expect(await store.getExtension('ext-1')).toBeUndefined();
    });

    it("keeps a session's context and extension", async () => {
      const p = newProject('p');
      await store.createProject(p);
      const s = sessionRecord(p.id, { contextId: 'ctx-1', extensionId: 'ext-1' });
      expect(await store.insertSessionWithinLimit(s, 5)).toBe(true);
      expect(await store.getSession(s.id)).toMatchObject({ contextId: 'ctx-1', extensionId: 'ext-1' });
    });

    it('finds API keys by hash with their projects in order, and revokes them once', async () => {
      const [p1, p2] = [newProject('p1'), newProject('p2')];
      await store.createProject(p1);
      await store.createProject(p2);
      const key = apiKeyRecord('wc_secret_value_123456', 'k', [p2.id, p1.id]);
      await store.createApiKey(key);
      expect(await store.findApiKeyByHash(key.hash)).toEqual(key);
      expect(await store.findApiKeyByHash('0'.repeat(64))).toBeUndefined();
      const first = new Date('2026-03-01T00:00:00Z');
      expect(await store.revokeApiKey(key.id, first)).toBe(true);
      expect(await store.revokeApiKey(key.id, new Date())).toBe(true);
      expect((await store.findApiKeyByHash(key.hash))?.revokedAt).toEqual(first);
      expect(await store.revokeApiKey('key_missing', new Date())).toBe(false);
      expect((await store.listApiKeys()).map((k) => k.id)).toEqual([key.id]);
    });

    it('admits sessions up to the limit, atomically, even when inserts race', async () => {
      const p = newProject('p');
      await store.createProject(p);
      const other = await fixture.reopen();
      const attempts = Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? store : other).insertSessionWithinLimit(sessionRecord(p.id), 3),
      );
      const results = await Promise.all(attempts);
      expect(results.filter(Boolean)).toHaveLength(3);
      expect(await store.listActiveSessions()).toHaveLength(3);
      // Ended sessions free their slot.
      const [one] = await store.listActiveSessions();
      await store.endSession(one?.id as string, { status: 'COMPLETED', endedAt: new Date(), endReason: 'done' });
      expect(await store.insertSessionWithinLimit(sessionRecord(p.id), 3)).toBe(true);
      expect(await store.insertSessionWithinLimit(sessionRecord(p.id), 3)).toBe(false);
      await other.close();
    });

    it('lets one active session at a time persist a context, even when admissions race; readers do not count', async () => {
      const p = newProject('p');
      await store.createProject(p);
      const other = await fixture.reopen();
      const writers = Array.from({ length: 6 }, () => sessionRecord(p.id, { contextId: 'ctx', contextPersist: true }));
      const results = await Promise.allSettled(
        writers.map((w, i) => (i % 2 ? other : store).insertSessionWithinLimit(w, 10)),
      );
      const admitted = writers.filter((_, i) => results[i]?.status === 'fulfilled');
      expect(admitted).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ContextInUseError);
      // A refused writer stored nothing and took no slot; a reader and another context's writer are admitted.
      for (const w of writers.filter((x) => !admitted.includes(x)))
        expect(await store.getSession(w.id)).toBeUndefined();
      expect(await store.insertSessionWithinLimit(sessionRecord(p.id, { contextId: 'ctx' }), 10)).toBe(true);
      expect(
        await store.insertSessionWithinLimit(sessionRecord(p.id, { contextId: 'other', contextPersist: true }), 10),
      ).toBe(true);
      expect((await store.listActiveSessions()).filter((s) => s.projectId === p.id)).toHaveLength(3);
      // Every ending releases the lock: the next writer is admitted, and refused again while it runs.
      const [writer] = admitted;
      await other.endSession(writer?.id as string, { status: 'ERROR', endedAt: new Date(), endReason: 'crashed' });
      const next = sessionRecord(p.id, { contextId: 'ctx', contextPersist: true });
      expect(await store.insertSessionWithinLimit(next, 10)).toBe(true);
      await expect(
        store.insertSessionWithinLimit(sessionRecord(p.id, { contextId: 'ctx', contextPersist: true }), 10),
      ).rejects.toBeInstanceOf(ContextInUseError);
      await store.endSession(next.id, { status: 'TIMED_OUT', endedAt: new Date(), endReason: 'timed out' });
      expect(
        await store.insertSessionWithinLimit(sessionRecord(p.id, { contextId: 'ctx', contextPersist: true }), 10),
      ).toBe(true);
      await other.close();
    });

    it('gives a slot back exactly once however many endings race, and admits against the true count', async () => {
      const p = newProject('p');
      await store.createProject(p);
      const other = await fixture.reopen();
      const [a, b] = [sessionRecord(p.id), sessionRecord(p.id)];
      expect(await store.insertSessionWithinLimit(a, 2)).toBe(true);
      expect(await store.insertSessionWithinLimit(b, 2)).toBe(true);
      const statuses = ['COMPLETED', 'TIMED_OUT', 'ERROR'] as const;
      // Six endings of `a` from two handles, racing creates that may only take the one freed slot.
      const endings = Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? store : other).endSession(a.id, {
          status: statuses[i % 3] as (typeof statuses)[number],
          endedAt: new Date(),
          endReason: `ending ${i}`,
        }),
      );
      const creates = Array.from({ length: 4 }, (_, i) =>
        (i % 2 ? other : store).insertSessionWithinLimit(sessionRecord(p.id), 2),
      );
      const [ended, admitted] = await Promise.all([Promise.all(endings), Promise.all(creates)]);
      // Every ending reports the one that won.
      const final = await store.getSession(a.id);
      for (const e of ended) expect(e?.status).toBe(final?.status);
      expect(admitted.filter(Boolean).length).toBeLessThanOrEqual(1);
      const active = (await store.listActiveSessions()).filter((s) => s.projectId === p.id);
      expect(active.length).toBe(1 + admitted.filter(Boolean).length);
      // End everything: exactly `limit` fit again, so no slot leaked and none was given back twice.
      for (const s of active)
        await store.endSession(s.id, { status: 'COMPLETED', endedAt: new Date(), endReason: 'x' });
      expect(await store.insertSessionWithinLimit(sessionRecord(p.id), 2)).toBe(true);
      expect(await store.insertSessionWithinLimit(sessionRecord(p.id), 2)).toBe(true);
      expect(await store.insertSessionWithinLimit(sessionRecord(p.id), 2)).toBe(false);
      await other.close();
    });

    it('round-trips every session field', async () => {
      const p = newProject('p');
      await store.createProject(p);
      const s = sessionRecord(p.id, {
        keepAlive: true,
        region: 'eu-central-1',
        viewport: { width: 1288, height: 711 },
        userMetadata: { a: { b: 'c' }, n: 1, list: [1, 'x'] },
      });
      await store.insertSessionWithinLimit(s, 10);
      expect(await store.getSession(s.id)).toEqual(s);
      expect(await store.getSession('missing')).toBeUndefined();
    });

    it('moves PENDING to RUNNING once, and records only the first ending', async () => {
      const p = newProject('p');
      await store.createProject(p);
      const s = sessionRecord(p.id);
      await store.insertSessionWithinLimit(s, 10);
      expect((await store.markSessionRunning(s.id, new Date()))?.status).toBe('RUNNING');
      expect(await store.markSessionRunning(s.id, new Date())).toBeUndefined();
      const endedAt = new Date();
      const ended = await store.endSession(s.id, { status: 'TIMED_OUT', endedAt, endReason: 'timeout' });
      expect(ended).toMatchObject({ status: 'TIMED_OUT', endedAt, endReason: 'timeout' });
      const again = await store.endSession(s.id, { status: 'ERROR', endedAt: new Date(), endReason: 'late' });
      expect(again).toMatchObject({ status: 'TIMED_OUT', endReason: 'timeout' });
      expect(await store.endSession('missing', { status: 'ERROR', endedAt, endReason: 'x' })).toBeUndefined();
      // A session that ended while PENDING is never marked RUNNING afterwards.
      const early = sessionRecord(p.id);
      await store.insertSessionWithinLimit(early, 10);
      await store.endSession(early.id, { status: 'ERROR', endedAt, endReason: 'crash' });
      expect(await store.markSessionRunning(early.id, new Date())).toBeUndefined();
    });

    it("lists a project's sessions newest first, filtered by status and metadata", async () => {
      const [p, q] = [newProject('p'), newProject('q')];
      await store.createProject(p);
      await store.createProject(q);
      const t0 = Date.now();
      const old = sessionRecord(p.id, { createdAt: new Date(t0 - 2000), userMetadata: { team: { name: 'blue' } } });
      const mid = sessionRecord(p.id, {
        createdAt: new Date(t0 - 1000),
        userMetadata: { team: { name: 'red' }, n: '1' },
      });
      const young = sessionRecord(p.id, { createdAt: new Date(t0), userMetadata: { team: { name: 'red' }, n: 1 } });
      const foreign = sessionRecord(q.id, { userMetadata: { team: { name: 'red' } } });
      for (const s of [old, mid, young, foreign]) await store.insertSessionWithinLimit(s, 10);
      await store.endSession(old.id, { status: 'COMPLETED', endedAt: new Date(), endReason: 'r' });

      expect((await store.listSessions(p.id)).map((s) => s.id)).toEqual([young.id, mid.id, old.id]);
      expect((await store.listSessions(p.id, { status: 'COMPLETED' })).map((s) => s.id)).toEqual([old.id]);
      const red = await store.listSessions(p.id, { metadata: [{ path: ['team', 'name'], value: 'red' }] });
      expect(red.map((s) => s.id)).toEqual([young.id, mid.id]);
      // String equality only: the number 1 does not match '1'.
      const n = await store.listSessions(p.id, {
        metadata: [
          { path: ['team', 'name'], value: 'red' },
          { path: ['n'], value: '1' },
        ],
      });
      expect(n.map((s) => s.id)).toEqual([mid.id]);
      expect(
        await store.listSessions(p.id, { status: 'RUNNING', metadata: [{ path: ['team', 'name'], value: 'blue' }] }),
      ).toEqual([]);
    });
    it('keeps webhooks per project: newest first, endpoints unique in a project, updates and deletes scoped', async () => {
      const [p1, p2] = [newProject('p1'), newProject('p2')];
      await store.createProject(p1);
      await store.createProject(p2);
      const at = (n: number) => new Date(Date.UTC(2026, 5, 1, 0, 0, n));
      const hook = (id: string, projectId: string, endpoint: string, n: number): WebhookRecord => ({
        id,
        projectId,
        endpoint,
        eventTypes: ['session.ended'],
        secrets: [{ sealed: `v1.sealed-${id}` }],
        createdAt: at(n),
        updatedAt: at(n),
      });
      const a = hook('wh-a', p1.id, 'https://example.com/a', 1);
      const b = hook('wh-b', p1.id, 'https://example.com/b', 2);
      await store.createWebhook(a);
      await store.createWebhook(b);
      // The same endpoint in another project is another webhook.
      await store.createWebhook(hook('wh-c', p2.id, 'https://example.com/a', 3));
      await expect(store.createWebhook(hook('wh-d', p1.id, 'https://example.com/a', 4))).rejects.toBeInstanceOf(
        WebhookEndpointTakenError,
      );
      expect(await store.getWebhook(p1.id, 'wh-a')).toEqual(a);
      expect(await store.getWebhook(p2.id, 'wh-a')).toBeUndefined();
      expect((await store.listWebhooks(p1.id)).map((w) => w.id)).toEqual(['wh-b', 'wh-a']);
      expect((await store.listWebhooks(p2.id)).map((w) => w.id)).toEqual(['wh-c']);

      const retiresAt = at(99);
      const updated = await store.updateWebhook(p1.id, 'wh-a', {
        eventTypes: ['session.created', 'session.ended'],
        secrets: [{ sealed: 'v1.new' }, { sealed: 'v1.sealed-wh-a', retiresAt }],
        updatedAt: at(10),
      });
      expect(updated).toEqual({
        ...a,
        eventTypes: ['session.created', 'session.ended'],
        secrets: [{ sealed: 'v1.new' }, { sealed: 'v1.sealed-wh-a', retiresAt }],
        updatedAt: at(10),
      });
      expect(await store.getWebhook(p1.id, 'wh-a')).toEqual(updated);
      await expect(
        store.updateWebhook(p1.id, 'wh-a', { endpoint: 'https://example.com/b', updatedAt: at(11) }),
      ).rejects.toBeInstanceOf(WebhookEndpointTakenError);
      expect(await store.updateWebhook(p2.id, 'wh-a', { endpoint: 'https://x.example', updatedAt: at(11) })).toBe(
        undefined,
      );

      await store.addWebhookAttempt({
        id: 'att-1',
        webhookId: 'wh-a',
        eventId: 'evt_1',
        eventType: 'session.ended',
        attempt: 1,
        attemptedAt: at(20),
        responseStatus: 500,
        error: 'The receiver answered 500.',
        succeeded: false,
        nextAttemptAt: at(22),
      });
      await store.addWebhookAttempt({
        id: 'att-2',
        webhookId: 'wh-a',
        eventId: 'evt_1',
        eventType: 'session.ended',
        attempt: 2,
        attemptedAt: at(22),
        responseStatus: 200,
        succeeded: true,
      });
      const log = await store.listWebhookAttempts('wh-a');
      expect(log.map((x) => x.id)).toEqual(['att-2', 'att-1']);
      expect(log[1]).toMatchObject({ responseStatus: 500, nextAttemptAt: at(22), succeeded: false });

      expect(await store.deleteWebhook(p2.id, 'wh-a')).toBe(false);
      expect(await store.deleteWebhook(p1.id, 'wh-a')).toBe(true);
      expect(await store.deleteWebhook(p1.id, 'wh-a')).toBe(false);
      expect(await store.getWebhook(p1.id, 'wh-a')).toBeUndefined();
      expect(await store.listWebhookAttempts('wh-a')).toEqual([]);
      expect((await store.listWebhooks(p1.id)).map((w) => w.id)).toEqual(['wh-b']);
    });

    it("keeps only a webhook's latest attempts", async () => {
      const p = newProject('p');
      await store.createProject(p);
      const base = Date.UTC(2026, 5, 1);
      for (let i = 0; i < WEBHOOK_LOG_SIZE + 3; i++) {
        await store.addWebhookAttempt({
          id: `att-${String(i).padStart(3, '0')}`,
          webhookId: 'wh-log',
          eventId: `evt_${i}`,
          eventType: 'session.created',
          attempt: 1,
          attemptedAt: new Date(base + i * 1000),
          responseStatus: 204,
          succeeded: true,
        });
      }
      const log = await store.listWebhookAttempts('wh-log');
      expect(log).toHaveLength(WEBHOOK_LOG_SIZE);
      expect(log[0]?.id).toBe(`att-${WEBHOOK_LOG_SIZE + 2}`);
      expect(log.at(-1)?.id).toBe('att-003');
    });
  });
}
