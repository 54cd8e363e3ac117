import { randomUUID } from 'node:crypto';
import { apiKeyRecord, generateApiKey, hashApiKey } from './api-keys.js';
import { PROJECT_DEFAULTS, type ProjectRecord } from './domain/model.js';
import type { Store } from './ports/store.js';

export interface BootstrapResult {
  /** Set when this start created the default project. */
  createdProject?: ProjectRecord;
  /** A generated key, to be shown once. Never set when the operator supplied the key. */
  generatedKey?: string;
  /** Set when `WALLCRAWLER_API_KEY` was added as a key of the default project. */
  addedConfiguredKey?: boolean;
}

/** Makes a project record with the defaults. */
export function newProject(
  name: string,
  settings: { defaultTimeout?: number; concurrency?: number } = {},
  now = new Date(),
): ProjectRecord {
  return {
    id: randomUUID(),
    name,
    ownerId: 'local',
    defaultTimeout: settings.defaultTimeout ?? PROJECT_DEFAULTS.defaultTimeout,
    concurrency: settings.concurrency ?? PROJECT_DEFAULTS.concurrency,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * First start: create the default project and an API key (generated, or `configuredKey`). Later starts add
 * `configuredKey` to the default project if it is new; a revoked one stays revoked.
 */
export async function bootstrap(store: Store, configuredKey?: string): Promise<BootstrapResult> {
  const result: BootstrapResult = {};
  let [project] = await store.listProjects();
  if (!project) {
    project = newProject('default');
    await store.createProject(project);
    result.createdProject = project;
    if (!configuredKey) {
      const { key, record } = generateApiKey('default', [project.id]);
      await store.createApiKey(record);
      result.generatedKey = key;
    }
  }
  if (configuredKey && !(await store.findApiKeyByHash(hashApiKey(configuredKey)))) {
    await store.createApiKey(apiKeyRecord(configuredKey, 'from WALLCRAWLER_API_KEY', [project.id]));
    result.addedConfiguredKey = true;
  }
  return result;
}
