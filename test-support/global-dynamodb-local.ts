/**
 * Vitest global setup: one DynamoDB Local for the whole run (a JVM start costs seconds), its endpoint given to
 * the tests as `inject('dynamodbEndpoint')`. Each test isolates itself with its own table names.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from './dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulator = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', emulator.endpoint);
  return () => emulator.stop();
}
