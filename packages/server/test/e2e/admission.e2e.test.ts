import { expectNothingLeft, processesUnder, waitFor } from '@wallcrawler/test-support';
import { type TestServer, useTestServer } from '@wallcrawler/test-support/test-server';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.js';
import { newProject } from '../../src/bootstrap.js';

/**
 * Host-aware admission on a real server with real browsers: a per-host limit (`WALLCRAWLER_MAX_SESSIONS`), a
 * bounded per-project queue for the creates past it, served in turn across projects, and a 429 with Retry-After
 * past the queue or its wait.
 */

async function projectKey(t: TestServer, name: string, concurrency: number) {
  const project = newProject(name, { concurrency });
  await t.store.createProject(project);
  const { key, record } = generateApiKey(name, [project.id]);
  await t.store.createApiKey(record);
  return { key, projectId: project.id };
}

const create = (t: TestServer, key: string, body: Record<string, unknown> = {}) =>
  fetch(`${t.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'x-bb-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const release = (t: TestServer, key: string, id: string) =>
  fetch(`${t.url}/v1/sessions/${id}`, {
    method: 'POST',
    headers: { 'x-bb-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'REQUEST_RELEASE' }),
  });

describe('200 concurrent creates and releases on a host that runs 4 browsers', () => {
  const MAX = 4;
  const t = useTestServer({
    WALLCRAWLER_MAX_SESSIONS: String(MAX),
    WALLCRAWLER_QUEUE_SIZE: '200',
    WALLCRAWLER_QUEUE_TIMEOUT_MS: '180000',
  });
  let key: string;
  let projectId: string;

  beforeAll(async () => {
    ({ key, projectId } = await projectKey(t, 'storm', 200));
  });

  it('serves every create through the queue, never runs more than the limit, and the counts end where they began', async () => {
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        // Live browsers: the sessions whose directory a running (not zombie) process still names.
        const live = new Set(
          processesUnder(t.dataDir)
            .filter((p) => p.state !== 'Z')
            .map((p) => /\/sessions\/([0-9a-f-]{36})/.exec(p.cmdline)?.[1])
            .filter(Boolean),
        );
        most = Math.max(most, live.size);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const response = await create(t, key);
        const body = (await response.json()) as { id: string; code?: string; message?: string };
        // Anything but a 201 is reported with its error body, so that a failure says what went wrong.
        if (response.status !== 201) return `${response.status} ${body.code}: ${body.message}`;
        expect((await release(t, key, body.id)).status).toBe(200);
        return response.status;
      }),
    );
    sampling = false;
    await sampler;
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(MAX);
    // The store and the host agree: nothing active, every session ended as released.
    expect(await t.store.listActiveSessions()).toEqual([]);
    const sessions = await t.store.listSessions(projectId);
    expect(sessions).toHaveLength(200);
    expect(new Set(sessions.map((s) => s.status))).toEqual(new Set(['COMPLETED']));
    await expectNothingLeft(t.dataDir);
    // Every slot came back, and no more: MAX creates at once are served without waiting.
    const again = await Promise.all(Array.from({ length: MAX }, () => create(t, key, { keepAlive: true })));
    expect(again.map((r) => r.status)).toEqual(Array(MAX).fill(201));
    for (const response of again) await release(t, key, ((await response.json()) as { id: string }).id);
    await expectNothingLeft(t.dataDir);
    // 200 browsers, 4 at a time, on 2 cores shared with another test file: minutes, not the default minute.
  }, 300_000);
});

/** Waits until `n` creates wait in the host's queue. */
const queued = (t: TestServer, n: number) =>
  waitFor(() => t.server.census().queuedCreates === n, { message: `${n} creates queued` });

describe('the queue past the limit', () => {
  const t = useTestServer({
    WALLCRAWLER_MAX_SESSIONS: '1',
    WALLCRAWLER_QUEUE_SIZE: '2',
    // Long enough that the waiting creates are served in turn on a starved host, never timed out.
    WALLCRAWLER_QUEUE_TIMEOUT_MS: '10000',
  });
  let a: { key: string; projectId: string };
  let b: { key: string; projectId: string };

  beforeAll(async () => {
    a = await projectKey(t, 'project-a', 10);
    b = await projectKey(t, 'project-b', 10);
  });

  it('is bounded per project, refuses past it with Retry-After and stores nothing, and serves projects in turn', async () => {
    const held = (await (await create(t, a.key, { keepAlive: true })).json()) as { id: string };
    const order: string[] = [];
    const waiting = (project: { key: string }, name: string) =>
      create(t, project.key, { keepAlive: true }).then(async (response) => {
        order.push(name);
        expect(response.status, name).toBe(201);
        return ((await response.json()) as { id: string }).id;
      });
    const a2 = waiting(a, 'a2');
    await queued(t, 1);
    const a3 = waiting(a, 'a3');
    await queued(t, 2);
    // A's queue is full: its next create is refused at once, and nothing of it is stored.
    const refused = await create(t, a.key, { keepAlive: true });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(await refused.json()).toMatchObject({
      code: 'host_at_capacity',
      message: expect.stringContaining('WALLCRAWLER_MAX_SESSIONS'),
    });
    expect(await t.store.listSessions(a.projectId)).toHaveLength(1);
    // B still gets into its own queue.
    const b1 = waiting(b, 'b1');
    await queued(t, 3);

    await release(t, a.key, held.id);
    const a2Id = await a2;
    await release(t, a.key, a2Id);
    const b1Id = await b1;
    await release(t, b.key, b1Id);
    const a3Id = await a3;
    await release(t, a.key, a3Id);
    // A went first (its create waited first); then B's turn came before A's second waiting create.
    expect(order).toEqual(['a2', 'b1', 'a3']);
    await expectNothingLeft(t.dataDir);
  });
});

describe('a create that waits past the queue timeout', () => {
  // Its own server, so that the wait is seconds: nothing else here needs the queue to hold a create for long.
  const QUEUE_TIMEOUT_MS = 2_000;
  const t = useTestServer({
    WALLCRAWLER_MAX_SESSIONS: '1',
    WALLCRAWLER_QUEUE_SIZE: '2',
    WALLCRAWLER_QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS),
  });
  let a: { key: string; projectId: string };
  let b: { key: string; projectId: string };

  beforeAll(async () => {
    a = await projectKey(t, 'project-a', 10);
    b = await projectKey(t, 'project-b', 10);
  });

  it('is answered with a 429 and Retry-After once it waited the timeout, and stores nothing', async () => {
    const held = (await (await create(t, b.key, { keepAlive: true })).json()) as { id: string };
    const started = Date.now();
    const late = await create(t, a.key);
    expect(late.status).toBe(429);
    expect(Date.now() - started).toBeGreaterThanOrEqual(QUEUE_TIMEOUT_MS - 100);
    expect(late.headers.get('retry-after')).toBe(String(QUEUE_TIMEOUT_MS / 1000));
    expect(await late.json()).toMatchObject({ code: 'host_at_capacity' });
    expect((await t.store.listSessions(a.projectId)).filter((s) => s.status !== 'COMPLETED')).toEqual([]);
    await release(t, b.key, held.id);
    await expectNothingLeft(t.dataDir);
  }, 30_000);
});
