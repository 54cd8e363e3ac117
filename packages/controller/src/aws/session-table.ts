import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDbTableNames, SessionEndStatus, SessionStartFailure } from '@wallcrawler/contracts';
import { cancellationReasons, isConditionalCheckFailed, isTransactionConflict } from './dynamodb-reads.js';

/** A session's end, as the sessions table records it. */
export interface SessionTableEnd {
  status: SessionEndStatus;
  endedAt: Date;
  endReason: string;
  /** Why its browser never started, when that was what the session asked for (see `SessionStartFailure`). */
  startFailure?: SessionStartFailure;
}

/**
 * The resources-table item that says which session persists a context: put in the session's admission
 * transaction, deleted in its ending's. Its existence is the rule "one running session at a time persists a
 * context" on DynamoDB.
 */
export const contextLockKey = (contextId: string) => `context-lock#${contextId}`;

/** Where a running session's browser is reached, written by the controller that serves it. */
export interface SessionPlacement {
  /** `ws://host:port` of the controller's CDP proxy. */
  connectEndpoint?: string;
  /** The ECS task serving the session. */
  taskArn?: string;
}

export type EndResult = 'ended' | 'already-ended' | 'missing';

/** DynamoDB cancelled a transaction for a conflict with another on the same items, too many times in a row. */
export class SessionTableConflictError extends Error {
  constructor(readonly what: string) {
    super(`${what} conflicted with concurrent changes too many times.`);
    this.name = 'SessionTableConflictError';
  }
}

export interface SessionTableOptions {
  db: DynamoDBDocumentClient;
  /** With `resources`, an ending also releases the context lock its session holds (see `contextLockKey`). */
  tables: Pick<DynamoDbTableNames, 'sessions' | 'projects'> & { resources?: string | undefined };
  /** How long DynamoDB keeps an ended session before its TTL deletes it, in seconds. @default 30 days */
  endedSessionRetentionSeconds?: number;
  /** Attempts at a transaction that keeps losing races. @default 8 */
  maxConflictRetries?: number;
}

type Item = Record<string, unknown>;

/**
 * The session status transitions on the DynamoDB sessions table, shared by the API (its `DynamoDbStore`) and
 * the controller in a Fargate task, so both move a session and its project's admission counter the same way:
 *
 * - PENDING → RUNNING, once, with where the browser is reached;
 * - PENDING or RUNNING → an ended status, once, giving the project's slot back (and the context lock of a
 *   session that persists one) in the same transaction. However many endings race (the task's own, a release,
 *   the task-state handler), exactly one wins and decrements.
 */
export class SessionTable {
  readonly #db: DynamoDBDocumentClient;
  readonly #tables: SessionTableOptions['tables'];
  readonly #retentionSeconds: number;
  readonly #maxConflictRetries: number;

  constructor({ db, tables, endedSessionRetentionSeconds = 30 * 86_400, maxConflictRetries = 8 }: SessionTableOptions) {
    this.#db = db;
    this.#tables = tables;
    this.#retentionSeconds = endedSessionRetentionSeconds;
    this.#maxConflictRetries = maxConflictRetries;
  }

  /** The raw item, read consistently. */
  async get(id: string): Promise<Item | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#tables.sessions, Key: { sessionId: id }, ConsistentRead: true }),
    );
    return Item;
  }

  /** PENDING → RUNNING. @returns the item afterwards, or undefined if it was not PENDING (or is missing). */
  async markRunning(id: string, at: Date, placement: SessionPlacement = {}): Promise<Item | undefined> {
    const sets = ['#status = :running', 'updatedAt = :at'];
    const values: Item = { ':running': 'RUNNING', ':pending': 'PENDING', ':at': at.getTime() };
    if (placement.connectEndpoint) {
      sets.push('connectEndpoint = :endpoint');
      values[':endpoint'] = placement.connectEndpoint;
    }
    if (placement.taskArn) {
      sets.push('taskArn = :task');
      values[':task'] = placement.taskArn;
    }
    try {
      const { Attributes } = await this.#db.send(
        new UpdateCommand({
          TableName: this.#tables.sessions,
          Key: { sessionId: id },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /**
   * Records the bytes that went through the session's proxies: while it runs, and as it ends, whichever ending
   * was recorded first (a release is recorded by the API before the task's own ending, which then changes
   * nothing else). The count only grows, so a late write of an older count is ignored.
   */
  async setProxyBytes(id: string, proxyBytes: number): Promise<void> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#tables.sessions,
          Key: { sessionId: id },
          UpdateExpression: 'SET proxyBytes = :bytes',
          ConditionExpression:
            'attribute_exists(sessionId) AND (attribute_not_exists(proxyBytes) OR proxyBytes < :bytes)',
          ExpressionAttributeValues: { ':bytes': proxyBytes },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /**
   * Writes why the session is being ended (a release), for its task to end it with once it is stopped: the task
   * then records the ending itself, after what it keeps is kept.
   * @returns false when the session is no longer active (or is missing)
   */
  async requestEnd(id: string, reason: string): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#tables.sessions,
          Key: { sessionId: id },
          UpdateExpression: 'SET endRequested = :reason',
          ConditionExpression: '#status IN (:pending, :running)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':reason': reason, ':pending': 'PENDING', ':running': 'RUNNING' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /**
   * Records the session's end unless it has ended already (the first ending wins), giving its project's slot
   * back in the same transaction.
   * @throws SessionTableConflictError when it kept losing races (the caller may retry)
   */
  async end(id: string, end: SessionTableEnd): Promise<EndResult> {
    return this.withConflictRetries('Ending the session', async () => {
      const item = await this.get(id);
      if (!item) return 'missing';
      if (item.status !== 'PENDING' && item.status !== 'RUNNING') return 'already-ended';
      const projectId = item.projectId;
      const lock = this.#lockRelease(item);
      if (typeof projectId !== 'string' || !projectId) {
        // No project to give a slot back to: still end it, so it cannot run forever.
        return (await this.#endAlone(id, end, lock)) ? 'ended' : 'already-ended';
      }
      try {
        await this.#db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  ...this.#endUpdate(id, end),
                  // Only the transition out of an active status gives the slot back, so it happens once.
                  ConditionExpression: '#status IN (:pending, :running) AND projectId = :project',
                  ExpressionAttributeValues: { ...this.#endValues(end), ':project': projectId },
                },
              },
              {
                Update: {
                  TableName: this.#tables.projects,
                  Key: { projectId },
                  UpdateExpression: 'ADD activeSessions :minusOne',
                  ConditionExpression: 'attribute_exists(projectId)',
                  ExpressionAttributeValues: { ':minusOne': -1 },
                },
              },
              ...lock,
            ],
          }),
        );
        return 'ended';
      } catch (error) {
        const [sessionReason, projectReason] = cancellationReasons(error) ?? [];
        // Another ending won the race.
        if (sessionReason === 'ConditionalCheckFailed') return 'already-ended';
        // The project is gone (deleted by hand): end the session all the same; there is no counter to fix.
        if (projectReason === 'ConditionalCheckFailed')
          return (await this.#endAlone(id, end, lock)) ? 'ended' : 'already-ended';
        throw error;
      }
    });
  }

  /**
   * Runs `attempt` (a transaction, or a read and a transaction) again while DynamoDB cancels it for conflicting
   * with another in flight on the same items (reason `TransactionConflict`), with jittered backoff.
   * @throws SessionTableConflictError past the retry limit
   */
  async withConflictRetries<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await attempt();
      } catch (error) {
        if (!isTransactionConflict(error)) throw error;
        if (i + 1 >= this.#maxConflictRetries) throw new SessionTableConflictError(what);
        await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** Math.min(i, 5)));
      }
    }
  }

  async #endAlone(id: string, end: SessionTableEnd, lock: Item[]): Promise<boolean> {
    const update = {
      ...this.#endUpdate(id, end),
      ConditionExpression: '#status IN (:pending, :running)',
      ExpressionAttributeValues: this.#endValues(end),
    };
    try {
      if (lock.length === 0) await this.#db.send(new UpdateCommand(update));
      else await this.#db.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, ...lock] }));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error) || cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  /**
   * The transaction item that releases the context lock of a session that persists a context. Unconditional: the
   * lock is this session's (its admission put it, and only its one ending, this one, deletes it), and a condition
   * that failed would cancel the ending with it.
   */
  #lockRelease(item: Item): Item[] {
    const contextId = item.contextId;
    if (item.contextPersist !== true || typeof contextId !== 'string' || !this.#tables.resources) return [];
    return [{ Delete: { TableName: this.#tables.resources, Key: { resourceId: contextLockKey(contextId) } } }];
  }

  #endUpdate(id: string, end: SessionTableEnd) {
    return {
      TableName: this.#tables.sessions,
      Key: { sessionId: id },
      UpdateExpression: `SET #status = :status, endedAt = :endedAt, endReason = :reason, updatedAt = :endedAt, #ttl = :ttl${
        end.startFailure ? ', startFailure = :failure' : ''
      }`,
      ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl' },
    };
  }

  #endValues(end: SessionTableEnd): Item {
    const endedAt = end.endedAt.getTime();
    return {
      ':status': end.status,
      ':endedAt': endedAt,
      ':reason': end.endReason,
      ':ttl': Math.floor(endedAt / 1000) + this.#retentionSeconds,
      ':pending': 'PENDING',
      ':running': 'RUNNING',
      ...(end.startFailure ? { ':failure': end.startFailure } : {}),
    };
  }
}
