import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { type DynamoDbTableNames, TABLES, type TableDefinition, type TableKey } from '@wallcrawler/contracts';

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
