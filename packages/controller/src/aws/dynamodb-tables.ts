import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';

/**
 * The DynamoDB tables, described once. The store reads and writes them by these names and keys; the CDK
 * stack (`@wallcrawler/infra-cdk`) creates them from this same description, so the two cannot disagree.
 */

/** A key attribute: its name and DynamoDB type (S string, N number). */
export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

export interface IndexDefinition {
  name: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
}

export interface TableDefinition {
  partitionKey: KeyAttribute;
  indexes: readonly IndexDefinition[];
  /** The attribute DynamoDB's TTL deletes items by (epoch seconds), if any. */
  ttlAttribute?: string;
  /** Whether the table has a stream (new and old images). */
  stream: boolean;
}

/** The logical tables; `DynamoDbTableNames` maps each to a physical name. */
export const TABLES = {
  /**
   * One item per session. Ended sessions get `ttl` (their end plus the retention) so DynamoDB deletes them
   * later; `expiresAt` is the session's own deadline, not a TTL, because a session must stay listable after it.
   * No stream: nothing reacts to session changes (creates poll the item; the seeds' stream → SNS → Lambda
   * chain was the original's fatal bug).
   */
  sessions: {
    partitionKey: { name: 'sessionId', type: 'S' },
    indexes: [
      {
        name: 'projectId-createdAt',
        partitionKey: { name: 'projectId', type: 'S' },
        sortKey: { name: 'createdAt', type: 'N' },
      },
      {
        name: 'status-expiresAt',
        partitionKey: { name: 'status', type: 'S' },
        sortKey: { name: 'expiresAt', type: 'N' },
      },
    ],
    ttlAttribute: 'ttl',
    stream: false,
  },
  /** One item per project, with `activeSessions`, the admission counter. */
  projects: {
    partitionKey: { name: 'projectId', type: 'S' },
    indexes: [],
    stream: false,
  },
  /**
   * One item per warm-pool task: IDLE while it waits, CLAIMED once a create hands it a session, RETIRED when it
   * ended itself idle. Creates find idle tasks through `status-idleSince`, oldest first.
   */
  tasks: {
    partitionKey: { name: 'taskArn', type: 'S' },
    indexes: [
      {
        name: 'status-idleSince',
        partitionKey: { name: 'status', type: 'S' },
        sortKey: { name: 'idleSince', type: 'N' },
      },
    ],
    ttlAttribute: 'ttl',
    stream: false,
  },
  /** One item per API key, keyed by the key's SHA-256 so that authentication is one consistent read. */
  apiKeys: {
    partitionKey: { name: 'keyHash', type: 'S' },
    indexes: [{ name: 'apiKeyId', partitionKey: { name: 'apiKeyId', type: 'S' } }],
    stream: false,
  },
  /**
   * Contexts and extensions (`kind` tells them apart), and the items that reserve context names in a project
   * (`context-name#<projectId>#<name in lower case>`), written in one transaction with their context.
   */
  resources: {
    partitionKey: { name: 'resourceId', type: 'S' },
    indexes: [],
    stream: false,
  },
} as const satisfies Record<string, TableDefinition>;

export type TableKey = keyof typeof TABLES;
export type DynamoDbTableNames = Record<TableKey, string>;

/** The seeds' table names. */
export const DEFAULT_TABLE_NAMES: DynamoDbTableNames = {
  sessions: 'wallcrawler-sessions',
  projects: 'wallcrawler-projects',
  apiKeys: 'wallcrawler-api-keys',
  tasks: 'wallcrawler-tasks',
  resources: 'wallcrawler-resources',
};

/** `CreateTable` input for one table: on-demand billing, its GSIs (all attributes projected), its stream. */
export function createTableInput(table: TableKey, name: string): CreateTableCommandInput {
  const definition: TableDefinition = TABLES[table];
  const attributes = new Map<string, AttributeDefinition>();
  const keyAttributes = [
    definition.partitionKey,
    ...definition.indexes.flatMap((i) => (i.sortKey ? [i.partitionKey, i.sortKey] : [i.partitionKey])),
  ];
  for (const a of keyAttributes) attributes.set(a.name, { AttributeName: a.name, AttributeType: a.type });
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes.values()],
    KeySchema: [{ AttributeName: definition.partitionKey.name, KeyType: 'HASH' }],
    ...(definition.indexes.length
      ? {
          GlobalSecondaryIndexes: definition.indexes.map((i) => ({
            IndexName: i.name,
            KeySchema: [
              { AttributeName: i.partitionKey.name, KeyType: 'HASH' as const },
              ...(i.sortKey ? [{ AttributeName: i.sortKey.name, KeyType: 'RANGE' as const }] : []),
            ],
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
    ...(definition.stream
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }
      : {}),
  };
}

/**
 * Creates every table (and turns on TTL where a table has one). For tests and for running against DynamoDB
 * Local; in AWS the CDK stack creates them.
 */
export async function createTables(client: DynamoDBClient, names: DynamoDbTableNames): Promise<void> {
  for (const table of Object.keys(TABLES) as TableKey[]) {
    await client.send(new CreateTableCommand(createTableInput(table, names[table])));
    const ttlAttribute: string | undefined = (TABLES[table] as TableDefinition).ttlAttribute;
    if (ttlAttribute) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: names[table],
          TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
        }),
      );
    }
  }
}
