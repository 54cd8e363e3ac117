/**
 * The DynamoDB tables, described once: their keys, indexes, TTL attribute and stream. The API's store and the
 * controller's task read and write them by these names and keys; the CDK stack (`@wallcrawler/infra-cdk`) and
 * the tests' DynamoDB Local create them from this same description, so none of them can disagree.
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
   * (`context-name#<projectId>#<name in lower case>`), written in one transaction with their context; a project's
   * webhooks (`webhooks#<projectId>`) and each webhook's delivery log (`webhook-log#<webhookId>`).
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
