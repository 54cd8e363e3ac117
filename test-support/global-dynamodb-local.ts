/**
 * Vitest global setup: one DynamoDB Local for the whole run (a JVM start costs seconds), its endpoint given to
 * the tests as `inject('dynamodbEndpoint')`. Each test isolates itself with its own table names.
 *
 * Only the projects whose tests talk to DynamoDB name this setup (vitest.config.ts), and vitest runs a project's
 * setup only when the run has files of it: `vitest run packages/sdk` starts no JVM. When several such projects run,
 * they share one emulator: vitest loads this module once per project, so the count lives on `globalThis` of the
 * main process, which all of them share.
 */
import type { TestProject } from 'vitest/node';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

interface Shared {
  emulator: Promise<DynamoDbLocal>;
  users: number;
}

const KEY = Symbol.for('wallcrawler.test-support.dynamodb-local');
const holder = globalThis as { [KEY]?: Shared };

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  holder[KEY] ??= { emulator: startDynamoDbLocal(), users: 0 };
  const shared = holder[KEY];
  shared.users++;
  const emulator = await shared.emulator;
  project.provide('dynamodbEndpoint', emulator.endpoint);
  return async () => {
    if (--shared.users > 0) return;
    delete holder[KEY];
    await emulator.stop();
  };
}
