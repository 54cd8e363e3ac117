import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SessionTable } from '../aws/session-table.js';

export interface SessionsReader {
  /** The session's item, or undefined when there is none; throws when the table cannot be read. */
  read: SessionTable['get'];
  destroy(): void;
}

/**
 * The edge's only store access: reads of the sessions table (its role may read nothing else). A client waits
 * at most 2 s for a connection and 5 s for an answer, twice, so a table out of reach costs a client's upgrade
 * a 503 `store_unavailable` within seconds instead of a hang (the SDK's defaults wait without limit).
 */
export function sessionsReader({
  region,
  endpoint,
  table,
}: {
  region: string;
  /** DynamoDB's endpoint: DynamoDB Local's on this machine, AWS's regional one when undefined. */
  endpoint?: string | undefined;
  table: string;
}): SessionsReader {
  const client = new DynamoDBClient({
    region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
    ...(endpoint ? { endpoint } : {}),
  });
  const sessions = new SessionTable({
    db: DynamoDBDocumentClient.from(client),
    tables: { sessions: table, projects: '' },
  });
  return { read: (id) => sessions.get(id), destroy: () => client.destroy() };
}
