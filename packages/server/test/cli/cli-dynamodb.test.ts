import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { tempDir } from '@wallcrawler/test-support';
import { describe, expect, inject, it } from 'vitest';
import { hashApiKey } from '../../src/api-keys.js';
import { DynamoDbStore } from '../../src/aws/dynamodb/dynamodb-store.js';
import { openModelKey } from '../../src/llm/model-key-seal.js';
import { cli, cliEnv } from '../support/cli.js';
import { dynamoDbClient, freshTables } from '../support/dynamodb.js';

/** The CLI's `projects` and `keys` commands against the stack's DynamoDB tables, in DynamoDB Local: no browser. */

describe('projects and keys of an AWS deployment (the stack’s DynamoDB tables)', () => {
  it('creates the first project and a key that the DynamoDB store authenticates, and lists them', async () => {
    const client = dynamoDbClient();
    const tables = await freshTables(client);
    const dir = tempDir('wallcrawler-cli-aws-');
    try {
      const env = cliEnv(dir.path, {
        WALLCRAWLER_SESSIONS_TABLE: tables.names.sessions,
        WALLCRAWLER_PROJECTS_TABLE: tables.names.projects,
        WALLCRAWLER_API_KEYS_TABLE: tables.names.apiKeys,
        WALLCRAWLER_DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      });
      const made = await cli(['projects', 'create', '--name', 'prod', '--concurrency', '25', '--json'], env);
      expect(made.code, made.stderr).toBe(0);
      const project = JSON.parse(made.stdout) as { id: string };
      const keyRun = await cli(['keys', 'create', '--name', 'first', '--json'], env);
      expect(keyRun.code, keyRun.stderr).toBe(0);
      const key = JSON.parse(keyRun.stdout) as { key: string; projectIds: string[] };
      expect(key.projectIds).toEqual([project.id]);
      const store = new DynamoDbStore({ client, tables: tables.names });
      expect(await store.findApiKeyByHash(hashApiKey(key.key))).toMatchObject({
        name: 'first',
        projectIds: [project.id],
      });
      expect(await store.getProject(project.id)).toMatchObject({ name: 'prod', concurrency: 25 });
      const listed = await cli(['keys', 'list', '--json'], env);
      expect(JSON.parse(listed.stdout)).toHaveLength(1);
      // Nothing was written to the local data dir.
      expect(readdirSync(dir.path)).toEqual([]);
      // Only some of the tables: a usage error that says which to set.
      const partial = await cli(['projects', 'list'], { ...env, WALLCRAWLER_API_KEYS_TABLE: '' });
      expect(partial.code).toBe(2);
      expect(partial.stderr).toMatch(/set all of WALLCRAWLER_SESSIONS_TABLE, WALLCRAWLER_PROJECTS_TABLE/);
    } finally {
      await tables.drop();
      client.destroy();
      dir.remove();
    }
  });

  it("sets a project's model on the projects table, its key sealed with the stack's contexts key", async () => {
    const client = dynamoDbClient();
    const tables = await freshTables(client);
    const dir = tempDir('wallcrawler-cli-aws-');
    const contextKey = randomBytes(32);
    const modelKey = `sk-aws-${randomBytes(8).toString('hex')}`;
    try {
      const env = cliEnv(dir.path, {
        WALLCRAWLER_SESSIONS_TABLE: tables.names.sessions,
        WALLCRAWLER_PROJECTS_TABLE: tables.names.projects,
        WALLCRAWLER_API_KEYS_TABLE: tables.names.apiKeys,
        WALLCRAWLER_DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      });
      const made = await cli(['projects', 'create', '--name', 'prod', '--json'], env);
      const project = JSON.parse(made.stdout) as { id: string };
      const args = [
        'projects',
        'model',
        'set',
        project.id,
        '--base-url',
        'https://api.openai.com/v1',
        '--model',
        'gpt-4.1-mini',
        '--api-key-stdin',
      ];
      // Without the contexts key (or its secret's ARN) there is nothing to seal with: a usage error, nothing written.
      const refused = await cli(args, env, modelKey);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('WALLCRAWLER_CONTEXT_KEY_SECRET_ARN');
      const set = await cli(args, { ...env, WALLCRAWLER_CONTEXT_KEY: contextKey.toString('hex') }, modelKey);
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout + set.stderr).not.toContain(modelKey);
      const store = new DynamoDbStore({ client, tables: tables.names });
      const stored = await store.getProjectModel(project.id);
      expect(stored).toMatchObject({ baseUrl: 'https://api.openai.com/v1', model: 'gpt-4.1-mini', api: 'responses' });
      expect(JSON.stringify(stored)).not.toContain(modelKey);
      expect(openModelKey(contextKey, project.id, stored?.sealedApiKey ?? '')).toBe(modelKey);
      expect(readdirSync(dir.path)).toEqual([]);
    } finally {
      await tables.drop();
      client.destroy();
      dir.remove();
    }
  });
});
