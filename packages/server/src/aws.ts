/**
 * @module
 * `@wallcrawler/server/aws`: what AWS deployments need from the server: the Lambda handlers, their validated
 * configuration, and the environment names the CDK stack sets (`AWS_API_ENV`).
 */
export { AWS_API_ENV } from './env-names.js';
export { type AwsApiConfig, type AwsStoreConfig, loadAwsApiConfig, loadAwsStoreConfig } from './runtime/aws-config.js';
export {
  apiHandler,
  createApiHandler,
  createLambdaHandlers,
  createTaskStateHandler,
  type LambdaHandlerOptions,
  type LambdaHandlers,
  taskStateHandler,
} from './runtime/lambda.js';
export { handleTaskStateChange, type TaskStateOutcome } from './services/task-state.js';
