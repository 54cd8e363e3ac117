import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamodb-reads.js';

/**
 * What a session's task reads and writes of its context's item in the resources table: whether the context
 * still exists when the session saves its profile (a context deleted meanwhile is not written back), and the
 * date of the save. The API owns the rest of the item (see the server's `ResourceTable`).
 */
export class ContextItems {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.#db = db;
    this.#table = table;
  }

  async exists(contextId: string): Promise<boolean> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { resourceId: contextId },
        ProjectionExpression: 'kind',
        ConsistentRead: true,
      }),
    );
    return Item?.kind === 'context';
  }

  /** Records that the context was saved at `at`; a context deleted meanwhile is left deleted. */
  async touch(contextId: string, at: Date): Promise<void> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { resourceId: contextId },
          UpdateExpression: 'SET updatedAt = :at',
          ConditionExpression: 'kind = :context',
          ExpressionAttributeValues: { ':at': at.getTime(), ':context': 'context' },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}
