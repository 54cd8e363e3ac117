import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type DynamoDbTableNames, TABLES } from '@wallcrawler/contracts';
import { cancellationReasons, isConditionalCheckFailed, queryAll } from './dynamodb-reads.js';

/** A warm-pool task as the tasks table records it. */
export interface PoolTask {
  taskArn: string;
  status: 'IDLE' | 'CLAIMED' | 'RETIRED';
  /** `ws://host:port` clients will reach it at. */
  connectEndpoint: string;
  idleSince: number;
  sessionId?: string;
  /** The ECS service that started the task (the pool's), if a service did. */
  service?: string;
}

export interface TaskTableOptions {
  db: DynamoDBDocumentClient;
  tables: Pick<DynamoDbTableNames, 'tasks' | 'sessions'>;
}

const IDLE_INDEX = TABLES.tasks.indexes[0].name;

/** How long a task's item outlives the task, for the record (TTL, seconds). */
const KEEP_SECONDS = 86_400;

/**
 * The warm pool's bookkeeping on the tasks table, shared by the API (which claims) and the controller (which
 * registers, waits and retires). Every transition is a conditional write, so a task is claimed by exactly one
 * create, and a task that retires idle cannot be claimed at the same moment.
 */
export class TaskTable {
  readonly #db: DynamoDBDocumentClient;
  readonly #tables: Pick<DynamoDbTableNames, 'tasks' | 'sessions'>;

  constructor({ db, tables }: TaskTableOptions) {
    this.#db = db;
    this.#tables = tables;
  }

  /** The task joins the pool, idle. */
  async register(
    taskArn: string,
    connectEndpoint: string,
    { service, now = new Date() }: { service?: string; now?: Date } = {},
  ): Promise<void> {
    await this.#db.send(
      new PutCommand({
        TableName: this.#tables.tasks,
        Item: {
          taskArn,
          status: 'IDLE',
          connectEndpoint,
          idleSince: now.getTime(),
          ttl: Math.floor(now.getTime() / 1000) + KEEP_SECONDS,
          ...(service ? { service } : {}),
        },
      }),
    );
  }

  /** Every task IDLE or CLAIMED (read from the index), for sizing the pool. */
  async census(): Promise<PoolTask[]> {
    const byStatus = await Promise.all(
      ['IDLE', 'CLAIMED'].map((status) =>
        queryAll<PoolTask>(this.#db, {
          TableName: this.#tables.tasks,
          IndexName: IDLE_INDEX,
          KeyConditionExpression: '#status = :status',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status },
        }),
      ),
    );
    return byStatus.flat();
  }

  async get(taskArn: string): Promise<PoolTask | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#tables.tasks, Key: { taskArn }, ConsistentRead: true }),
    );
    return Item as PoolTask | undefined;
  }

  /** IDLE → RETIRED. @returns false when the task was claimed first (it must serve that session). */
  async retire(taskArn: string): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#tables.tasks,
          Key: { taskArn },
          UpdateExpression: 'SET #status = :retired',
          ConditionExpression: '#status = :idle',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':retired': 'RETIRED', ':idle': 'IDLE' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** A task that served its session is done with the pool. */
  async finish(taskArn: string): Promise<void> {
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#tables.tasks,
        Key: { taskArn },
        UpdateExpression: 'SET #status = :retired',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':retired': 'RETIRED' },
      }),
    );
  }

  /** Up to `limit` idle tasks, longest idle first (read from the index: a claim re-checks each). */
  async idle(limit = 5): Promise<PoolTask[]> {
    const { Items = [] } = await this.#db.send(
      new QueryCommand({
        TableName: this.#tables.tasks,
        IndexName: IDLE_INDEX,
        KeyConditionExpression: '#status = :idle',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':idle': 'IDLE' },
        Limit: limit,
      }),
    );
    return Items as PoolTask[];
  }

  /**
   * Hands `sessionId` to an idle task: the task IDLE → CLAIMED and the session (still PENDING) gets its
   * `taskArn` (and its sealed proxy routes, if it has any: the task reads them from there), in one transaction.
   * @returns the claimed task, or undefined when none of the idle ones could be had
   */
  async claim(
    sessionId: string,
    { now = new Date(), proxies }: { now?: Date; proxies?: string | undefined } = {},
  ): Promise<PoolTask | undefined> {
    for (const candidate of await this.idle()) {
      try {
        await this.#db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.#tables.tasks,
                  Key: { taskArn: candidate.taskArn },
                  UpdateExpression: 'SET #status = :claimed, sessionId = :session, claimedAt = :now',
                  ConditionExpression: '#status = :idle',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: {
                    ':claimed': 'CLAIMED',
                    ':idle': 'IDLE',
                    ':session': sessionId,
                    ':now': now.getTime(),
                  },
                },
              },
              {
                Update: {
                  TableName: this.#tables.sessions,
                  Key: { sessionId },
                  UpdateExpression: proxies ? 'SET taskArn = :task, proxies = :proxies' : 'SET taskArn = :task',
                  ConditionExpression: '#status = :pending',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: {
                    ':task': candidate.taskArn,
                    ':pending': 'PENDING',
                    ...(proxies ? { ':proxies': proxies } : {}),
                  },
                },
              },
            ],
          }),
        );
        return { ...candidate, status: 'CLAIMED', sessionId };
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons) throw error;
        // The session is no longer waiting: nothing to hand over.
        if (reasons[1] === 'ConditionalCheckFailed') return undefined;
        // Another create (or the task's own retirement) got this one first: try the next.
      }
    }
    return undefined;
  }
}
