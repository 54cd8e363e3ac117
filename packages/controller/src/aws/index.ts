/**
 * @module
 * `@wallcrawler/controller/aws`: the DynamoDB items that the API function and the controller's tasks both
 * write (sessions, the warm pool's tasks), and the helpers around them; and the S3 blob store both use. Their schemas are in
 * `@wallcrawler/contracts`; this is the code that reads and writes them with the AWS SDK.
 */
export { ContextItems } from './context-items.js';
export { createTableInput, createTables } from './create-tables.js';
export {
  cancellationReasons,
  isConditionalCheckFailed,
  isTransactionConflict,
  queryAll,
  scanAll,
} from './dynamodb-reads.js';
export { DynamoDbSessionReporter } from './dynamodb-session-reporter.js';
export { findPublicAddress } from './public-address.js';
export { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.js';
export { createS3Client } from './s3-client.js';
export {
  contextLockKey,
  type EndResult,
  type SessionPlacement,
  SessionTable,
  SessionTableConflictError,
  type SessionTableEnd,
  type SessionTableOptions,
} from './session-table.js';
export { parseTaskMetadata, readTaskMetadata, type TaskMetadata } from './task-metadata.js';
export { type PoolTask, TaskTable, type TaskTableOptions } from './task-table.js';
