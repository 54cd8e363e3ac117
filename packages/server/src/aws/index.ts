/**
 * @module
 * `@wallcrawler/server/aws`: what AWS deployments need from the server: the DynamoDB store and the S3 blob store,
 * the Lambda handlers, their validated configuration, and the environment names the CDK stack sets (`AWS_API_ENV`).
 */
export { AWS_API_ENV } from '@wallcrawler/contracts';
// The task writes blobs too, so the store lives in the controller's AWS entry point.
export { S3BlobStore, type S3BlobStoreOptions } from '@wallcrawler/controller/aws';
export { DynamoDbStore, type DynamoDbStoreOptions } from './dynamodb/dynamodb-store.js';
export { handleTaskStateChange, type TaskStateOutcome } from './ecs/task-state-events.js';
export { scaleWarmPool, type WarmPoolDecision, type WarmPoolSize } from './ecs/warm-pool-scaler.js';
export {
  type AwsApiConfig,
  type AwsPoolConfig,
  type AwsStoreConfig,
  loadAwsApiConfig,
  loadAwsPoolConfig,
  loadAwsStoreConfig,
} from './lambda/config.js';
export {
  apiHandler,
  createApiHandler,
  createLambdaHandlers,
  createTaskStateHandler,
  createWarmPoolHandler,
  type LambdaHandlerOptions,
  type LambdaHandlers,
  taskStateHandler,
  warmPoolHandler,
} from './lambda/handlers.js';
