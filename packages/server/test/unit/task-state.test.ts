import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbStore } from '../../src/aws/dynamodb/dynamodb-store.js';
import { handleTaskStateChange } from '../../src/aws/ecs/task-state-events.js';
import { newProject } from '../../src/bootstrap.js';
import { dynamoDbClient, freshTables } from '../support/dynamodb.js';
import { sessionRecord } from '../support/records.js';

/** A real EventBridge "ECS Task State Change" event (an OOM-killed task), with the session filled in. */
function stoppedEvent(sessionId: string, patch: (detail: Record<string, unknown>) => void = () => {}) {
  const text = readFileSync(new URL('../fixtures/ecs-task-state-change.json', import.meta.url), 'utf8');
  const event = JSON.parse(text.replaceAll('SESSION_ID', sessionId)) as { detail: Record<string, unknown> };
  patch(event.detail);
  return event;
}

const client = dynamoDbClient();
let tables: Awaited<ReturnType<typeof freshTables>>;
let store: DynamoDbStore;
const project = newProject('task-state', { concurrency: 10 });

beforeAll(async () => {
  tables = await freshTables(client);
  store = new DynamoDbStore({ client, tables: tables.names });
  await store.createProject(project);
});
afterAll(async () => {
  await tables.drop();
  client.destroy();
});

describe('the task-state handler', () => {
  it("ends a session whose task stopped as ERROR with ECS's reason, once, however often the event comes", async () => {
    const s = sessionRecord(project.id);
    await store.insertSessionWithinLimit(s, 10);
    await store.markSessionRunning(s.id, new Date());
    const event = stoppedEvent(s.id);
    expect(await handleTaskStateChange(event, store)).toBe('ended');
    const ended = await store.getSession(s.id);
    expect(ended).toMatchObject({ status: 'ERROR' });
    expect(ended?.endReason).toBe(
      "The browser's task stopped before the session ended (Essential container in task exited, exit code 137)",
    );
    // A duplicate changes nothing, and the slot was given back once.
    expect(await handleTaskStateChange(event, store)).toBe('already-ended');
    expect(await store.getSession(s.id)).toEqual(ended);
    for (let i = 0; i < 10; i++) expect(await store.insertSessionWithinLimit(sessionRecord(project.id), 10)).toBe(true);
    expect(await store.insertSessionWithinLimit(sessionRecord(project.id), 10)).toBe(false);
    for (const a of await store.listActiveSessions())
      await store.endSession(a.id, { status: 'COMPLETED', endedAt: new Date(), endReason: 'cleanup' });
  });

  it('leaves a session alone for events that are not final, not about it, or out of order', async () => {
    const s = sessionRecord(project.id);
    await store.insertSessionWithinLimit(s, 10);
    await store.markSessionRunning(s.id, new Date());
    const before = await store.getSession(s.id);
    // Not final yet (a RUNNING event arriving late, after others).
    expect(
      await handleTaskStateChange(
        stoppedEvent(s.id, (d) => (d.lastStatus = 'RUNNING')),
        store,
      ),
    ).toBe('ignored');
    // Unknown session.
    expect(await handleTaskStateChange(stoppedEvent('no-such-session'), store)).toBe('unknown-session');
    // A task that was not a Wallcrawler session's.
    expect(
      await handleTaskStateChange(
        stoppedEvent(s.id, (d) => {
          d.overrides = {};
          d.startedBy = 'someone-else';
        }),
        store,
      ),
    ).toBe('not-a-session');
    // Malformed events.
    for (const bad of [null, 'text', {}, { 'detail-type': 'ECS Task State Change', source: 'aws.ecs', detail: {} }]) {
      expect(await handleTaskStateChange(bad, store)).toBe('ignored');
    }
    expect(await store.getSession(s.id)).toEqual(before);
  });
});
