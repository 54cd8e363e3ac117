/**
 * `wallcrawler projects model set|show|clear <projectId>`: the model endpoint a project's
 * `POST /v1/llm/responses` calls (Stagehand 4 with no model in the client) go to. The key is read from stdin, never
 * from the command line (where `ps` and shell history would show it), stored sealed, and never printed.
 */
import { join } from 'node:path';
import { AWS_API_ENV, SERVER_ENV } from '@wallcrawler/contracts';
import { parseContextKey } from '@wallcrawler/controller';
import { loadContextKeyFile } from './adapters/local/context-key-file.js';
import { loadServerConfig } from './config.js';
import { MODEL_APIS, type ModelApi, type ProjectModelRecord } from './domain/model.js';
import { sealModelKey } from './llm/model-key-seal.js';
import type { Store } from './ports/store.js';

export class ModelUsageError extends Error {}

export interface ModelCommandOptions {
  baseUrl?: string | undefined;
  model?: string | undefined;
  api?: string | undefined;
  apiKeyStdin?: boolean | undefined;
  /** Whether the store is DynamoDB's (an AWS deployment) rather than the local data dir's. */
  aws: boolean;
}

/** What `show` prints: everything but the key, of which only whether there is one. */
function visible(model: ProjectModelRecord) {
  const { sealedApiKey, ...rest } = model;
  return { ...rest, apiKey: sealedApiKey ? 'set (sealed)' : 'none' };
}

/**
 * The key project model keys are sealed under: the contexts' key, where the server reads it (the data dir's
 * `context-key` or `WALLCRAWLER_CONTEXT_KEY` locally; on AWS the stack's secret, `WALLCRAWLER_CONTEXT_KEY_SECRET_ARN`).
 */
async function sealKey(aws: boolean): Promise<Buffer> {
  if (!aws) {
    const config = loadServerConfig();
    return config.contextKey ?? loadContextKeyFile(join(config.dataDir, 'context-key'));
  }
  const value = process.env[AWS_API_ENV.contextKey];
  if (value) return parseContextKey(value);
  const arn = process.env[AWS_API_ENV.contextKeySecretArn];
  const region = process.env[AWS_API_ENV.region];
  if (!arn || !region) {
    throw new ModelUsageError(
      `To seal a model key for an AWS deployment, set ${AWS_API_ENV.contextKeySecretArn} (the stack's context key secret) and AWS_REGION.`,
    );
  }
  const { readSecretString } = await import('./aws/lambda/connect-secret.js');
  return parseContextKey(await readSecretString(arn, region));
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Model API key (then Enter and Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

function checkedBaseUrl(value: string | undefined): string {
  if (!value) throw new ModelUsageError('projects model set needs --base-url <url> (OpenAI-compatible, /v1 included).');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ModelUsageError(`--base-url must be an http(s) URL, got "${value}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ModelUsageError(`--base-url must be an http(s) URL, got "${value}".`);
  return value.replace(/\/+$/, '');
}

/** Runs `projects model <action> <projectId>`; returns what to print (an object for `--json`, and a line). */
export async function runModelCommand(
  store: Store,
  action: string | undefined,
  projectId: string | undefined,
  options: ModelCommandOptions,
): Promise<{ value: unknown; text: string }> {
  if (!projectId || !['set', 'show', 'clear'].includes(action ?? ''))
    throw new ModelUsageError('Use: projects model set|show|clear <projectId>.');
  if (!(await store.getProject(projectId)))
    throw new ModelUsageError(`Unknown project ${projectId}. See \`wallcrawler projects list\`.`);
  if (action === 'show') {
    const model = await store.getProjectModel(projectId);
    if (!model) {
      const fallback = options.aws ? 'the API function' : `${SERVER_ENV.modelBaseUrl} and ${SERVER_ENV.modelName}`;
      return { value: null, text: `Project ${projectId} has no model of its own; it uses the server's (${fallback}).` };
    }
    const shown = visible(model);
    return {
      value: shown,
      text: `${projectId}  ${shown.baseUrl}  model=${shown.model}  api=${shown.api}  key: ${shown.apiKey}`,
    };
  }
  if (action === 'clear') {
    const cleared = await store.deleteProjectModel(projectId);
    return {
      value: { projectId, cleared },
      text: cleared ? `Cleared the model of ${projectId}.` : `${projectId} had no model.`,
    };
  }
  const baseUrl = checkedBaseUrl(options.baseUrl);
  if (!options.model) throw new ModelUsageError('projects model set needs --model <name> (what "auto" maps to).');
  const api = (options.api ?? 'responses') as ModelApi;
  if (!MODEL_APIS.includes(api)) throw new ModelUsageError(`--api must be one of ${MODEL_APIS.join(', ')}.`);
  let sealedApiKey: string | undefined;
  if (options.apiKeyStdin) {
    const key = await readStdin();
    if (!key) throw new ModelUsageError('--api-key-stdin read no key from stdin.');
    sealedApiKey = sealModelKey(await sealKey(options.aws), projectId, key);
  }
  const record: ProjectModelRecord = {
    projectId,
    baseUrl,
    model: options.model,
    api,
    ...(sealedApiKey ? { sealedApiKey } : {}),
    updatedAt: new Date(),
  };
  await store.setProjectModel(record);
  const shown = visible(record);
  return {
    value: shown,
    text: `Set the model of ${projectId}: ${baseUrl}, model=${shown.model}, api=${api}, key: ${shown.apiKey}.`,
  };
}
