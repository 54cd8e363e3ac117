/** A DynamoDB Local client, and fresh tables with names of their own (so users of one emulator never meet). */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDbTableNames, TABLES } from '@wallcrawler/contracts';
import { createTables } from '@wallcrawler/controller/aws';

/** A client for the DynamoDB Local at `endpoint` (the emulator accepts any credentials). */
export function dynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Fresh tables with names of their own, so tests never see each other's items; and how to drop them. */
export async function freshTables(
  client: DynamoDBClient,
): Promise<{ names: DynamoDbTableNames; drop(): Promise<void> }> {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const names = Object.fromEntries(
    Object.keys(TABLES).map((table) => [table, `${prefix}-${table}`]),
  ) as DynamoDbTableNames;
  await createTables(client, names);
  return {
    names,
    async drop() {
      for (const name of Object.values(names)) await client.send(new DeleteTableCommand({ TableName: name }));
    },
  };
}
