import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { cancellationReasons, isConditionalCheckFailed } from '@wallcrawler/controller/aws';
import { ContextNameTakenError, RecordExistsError } from '../../domain/errors.js';
import type { ContextRecord, ExtensionRecord } from '../../domain/model.js';
import { contextNameKey, contextToItem, extensionToItem, itemToContext, itemToExtension } from './items.js';

type Item = Record<string, unknown>;

/**
 * The DynamoDB store's contexts and extensions, in the resources table. Nothing here takes part in a session's
 * admission. A context's name is reserved by an item of its own (`context-name`), written in the same transaction
 * as the context, so two contexts of one project never share a name.
 */
export class ResourceTable {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.#db = db;
    this.#table = table;
  }

  async createContext(context: ContextRecord): Promise<void> {
    const item = contextToItem(context);
    const put = {
      Put: { TableName: this.#table, Item: item, ConditionExpression: 'attribute_not_exists(resourceId)' },
    };
    if (context.name === undefined) {
      try {
        await this.#db.send(new PutCommand(put.Put));
      } catch (error) {
        if (isConditionalCheckFailed(error)) throw new RecordExistsError('context', context.id);
        throw error;
      }
      return;
    }
    const name = context.name;
    try {
      await this.#db.send(
        new TransactWriteCommand({
          TransactItems: [
            put,
            {
              Put: {
                TableName: this.#table,
                Item: {
                  resourceId: contextNameKey(context.projectId, name),
                  kind: 'context-name',
                  contextId: context.id,
                },
                ConditionExpression: 'attribute_not_exists(resourceId)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      const [record, reservation] = cancellationReasons(error) ?? [];
      if (reservation === 'ConditionalCheckFailed') throw new ContextNameTakenError(name);
      if (record === 'ConditionalCheckFailed') throw new RecordExistsError('context', context.id);
      throw error;
    }
  }

  async getContext(id: string): Promise<ContextRecord | undefined> {
    const item = await this.#resource(id, 'context');
    return item ? itemToContext(item) : undefined;
  }

  async touchContext(id: string, at: Date): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { resourceId: id },
          UpdateExpression: 'SET updatedAt = :at',
          ConditionExpression: 'kind = :kind',
          ExpressionAttributeValues: { ':at': at.getTime(), ':kind': 'context' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async deleteContext(id: string): Promise<boolean> {
    const context = await this.getContext(id);
    if (!context) return false;
    await this.#db.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.#table, Key: { resourceId: id } } },
          ...(context.name === undefined
            ? []
            : [
                {
                  Delete: {
                    TableName: this.#table,
                    Key: { resourceId: contextNameKey(context.projectId, context.name) },
                  },
                },
              ]),
        ],
      }),
    );
    return true;
  }

  async createExtension(extension: ExtensionRecord): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: extensionToItem(extension),
          ConditionExpression: 'attribute_not_exists(resourceId)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new RecordExistsError('extension', extension.id);
      throw error;
    }
  }

  async getExtension(id: string): Promise<ExtensionRecord | undefined> {
    const item = await this.#resource(id, 'extension');
    return item ? itemToExtension(item) : undefined;
  }

  async deleteExtension(id: string): Promise<boolean> {
    try {
      await this.#db.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { resourceId: id },
          ConditionExpression: 'kind = :kind',
          ExpressionAttributeValues: { ':kind': 'extension' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** A context or extension item; undefined when missing or of the other kind. */
  async #resource(id: string, kind: 'context' | 'extension'): Promise<Item | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: { resourceId: id }, ConsistentRead: true }),
    );
    return Item?.kind === kind ? Item : undefined;
  }
}
