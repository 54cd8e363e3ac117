import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient as clientFor } from '@wallcrawler/test-support/dynamodb-tables';
import { inject } from 'vitest';

export { freshTables } from '@wallcrawler/test-support/dynamodb-tables';

/** A client for the run's DynamoDB Local (started by the global setup, or the one at `endpoint`). */
export function dynamoDbClient(endpoint: string = inject('dynamodbEndpoint')): DynamoDBClient {
  return clientFor(endpoint);
}
