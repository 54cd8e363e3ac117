import { GetItemCommand, PutItemCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SessionTable } from '@wallcrawler/controller/aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbStore } from '../../src/aws/dynamodb/dynamodb-store.js';
import { newProject } from '../../src/bootstrap.js';
import {
  ContextInUseError,
  CorruptRecordError,
  ProjectNotFoundError,
  RecordExistsError,
  WriteConflictError,
} from '../../src/domain/errors.js';
import { dynamoDbClient, freshTables } from '../support/dynamodb.js';
import { sessionRecord } from '../support/records.js';
import { describeStoreContract } from './store-contract.js';

const client = dynamoDbClient();
afterAll(() => client.destroy());

describeStoreContract('DynamoDB (DynamoDB Local)', async () => {
  const tables = await freshTables(client);
  const open = () => new DynamoDbStore({ client: dynamoDbClient(), tables: tables.names });
  const store = open();
  return {
    store,
    reopen: async () => open(),
    async dispose() {
      await store.close();
      await tables.drop();
    },
  };
});

describe('DynamoDB store: what only DynamoDB can get wrong', () => {
  let tables: Awaited<ReturnType<typeof freshTables>>;
  let store: DynamoDbStore;
  beforeAll(async () => {
    tables = await freshTables(client);
    store = new DynamoDbStore({ client, tables: tables.names });
    return () => tables.drop();
  });

  it('reports an item with missing or corrupt attributes as corrupt, naming them', async () => {
    await client.send(
      new PutItemCommand({
        TableName: tables.names.sessions,
        // The original's bug class: the item is there but an attribute is missing or of the wrong kind.
        Item: {
          sessionId: { S: 'broken' },
          projectId: { S: 'p' },
          status: { S: 'RUNNING' },
          timeoutSeconds: { S: 'five minutes' },
        },
      }),
    );
    const error = await store.getSession('broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as Error).message).toMatch(/session broken is corrupt/);
    expect((error as Error).message).toMatch(/timeoutSeconds/);
    expect((error as Error).message).toMatch(/region/);
  });

  it('stores ended sessions with a TTL, and never lists one whose TTL has passed', async () => {
    const p = newProject('ttl');
    await store.createProject(p);
    const s = sessionRecord(p.id);
    await store.insertSessionWithinLimit(s, 5);
    const endedAt = new Date();
    await store.endSession(s.id, { status: 'COMPLETED', endedAt, endReason: 'done' });
    const short = new DynamoDbStore({ client, tables: tables.names, endedSessionRetentionSeconds: -1 });
    const t = sessionRecord(p.id);
    await short.insertSessionWithinLimit(t, 5);
    await short.endSession(t.id, { status: 'COMPLETED', endedAt, endReason: 'done' });
    // DynamoDB deletes expired items only eventually; until then the store hides them.
    expect((await store.listSessions(p.id)).map((x) => x.id)).toEqual([s.id]);
  });

  it('clears a context lock whose session has ended (an ending that could not release it) and admits the writer', async () => {
    const p = newProject('p');
    await store.createProject(p);
    const gone = sessionRecord(p.id, { contextId: 'stale-ctx', contextPersist: true });
    // What a task of an older stack (without the resources table) leaves: the session ended, its lock kept.
    expect(await store.insertSessionWithinLimit(gone, 5)).toBe(true);
    const bare = new SessionTable({
      db: DynamoDBDocumentClient.from(client),
      tables: { sessions: tables.names.sessions, projects: tables.names.projects },
    });
    await bare.end(gone.id, { status: 'COMPLETED', endedAt: new Date(), endReason: 'done' });
    const lock = await client.send(
      new GetItemCommand({ TableName: tables.names.resources, Key: { resourceId: { S: 'context-lock#stale-ctx' } } }),
    );
    expect(lock.Item?.sessionId?.S).toBe(gone.id);
    const next = sessionRecord(p.id, { contextId: 'stale-ctx', contextPersist: true });
    expect(await store.insertSessionWithinLimit(next, 5)).toBe(true);
    await expect(
      store.insertSessionWithinLimit(sessionRecord(p.id, { contextId: 'stale-ctx', contextPersist: true }), 5),
    ).rejects.toBeInstanceOf(ContextInUseError);
  });

  it('refuses a session for a missing project, a duplicate session and a duplicate project', async () => {
    await expect(store.insertSessionWithinLimit(sessionRecord('no-such-project'), 5)).rejects.toBeInstanceOf(
      ProjectNotFoundError,
    );
    const p = newProject('dup');
    await store.createProject(p);
    await expect(store.createProject(p)).rejects.toBeInstanceOf(RecordExistsError);
    const s = sessionRecord(p.id);
    expect(await store.insertSessionWithinLimit(s, 5)).toBe(true);
    await expect(store.insertSessionWithinLimit(s, 5)).rejects.toBeInstanceOf(RecordExistsError);
    // The refused duplicate took no slot: 4 more fit under 5.
    for (let i = 0; i < 4; i++) expect(await store.insertSessionWithinLimit(sessionRecord(p.id), 5)).toBe(true);
    expect(await store.insertSessionWithinLimit(sessionRecord(p.id), 5)).toBe(false);
  });

  it('retries a transaction that lost a race, and gives up with a retryable conflict error', async () => {
    const p = newProject('conflict');
    await store.createProject(p);
    // DynamoDB cancels a transaction with TransactionConflict when another touches the same item at once;
    // the emulator rarely does under test load, so the client is made to answer that way N times.
    let conflicts = 0;
    const flaky = dynamoDbClient();
    flaky.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand' && conflicts > 0) {
          conflicts--;
          throw new TransactionCanceledException({
            message: 'Transaction cancelled',
            $metadata: {},
            CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectConflicts' },
    );
    const conflicted = new DynamoDbStore({ client: flaky, tables: tables.names, maxConflictRetries: 3 });
    conflicts = 2;
    expect(await conflicted.insertSessionWithinLimit(sessionRecord(p.id), 5)).toBe(true);
    conflicts = 3;
    const s = sessionRecord(p.id);
    await expect(conflicted.insertSessionWithinLimit(s, 5)).rejects.toBeInstanceOf(WriteConflictError);
    expect(await store.getSession(s.id)).toBeUndefined();
    // Nothing was half-written: one session holds one slot.
    expect((await store.listActiveSessions()).filter((x) => x.projectId === p.id)).toHaveLength(1);
    flaky.destroy();
  });
});
