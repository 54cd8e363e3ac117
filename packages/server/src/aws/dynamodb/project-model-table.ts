import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '@wallcrawler/controller/aws';
import { ProjectNotFoundError } from '../../domain/errors.js';
import type { ProjectModelRecord } from '../../domain/model.js';
import { attributeToModel, modelToAttribute } from './items.js';

type Item = Record<string, unknown>;

/**
 * A project's model endpoint (`POST /v1/llm/responses`), its key sealed: a `model` attribute of the project's
 * item, which the project's own reads never return (they do not project it).
 */
export class ProjectModelTable {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, projectsTable: string) {
    this.#db = db;
    this.#table = projectsTable;
  }

  async set(model: ProjectModelRecord): Promise<void> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { projectId: model.projectId },
          UpdateExpression: 'SET #model = :model',
          ConditionExpression: 'attribute_exists(projectId)',
          ExpressionAttributeNames: { '#model': 'model' },
          ExpressionAttributeValues: { ':model': modelToAttribute(model) },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new ProjectNotFoundError(model.projectId);
      throw error;
    }
  }

  async get(projectId: string): Promise<ProjectModelRecord | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { projectId },
        ProjectionExpression: '#model',
        ExpressionAttributeNames: { '#model': 'model' },
        ConsistentRead: true,
      }),
    );
    const attribute = Item?.model as Item | undefined;
    return attribute ? attributeToModel(projectId, attribute) : undefined;
  }

  async delete(projectId: string): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { projectId },
          UpdateExpression: 'REMOVE #model',
          ConditionExpression: 'attribute_exists(#model)',
          ExpressionAttributeNames: { '#model': 'model' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
