import { ModelNotConfiguredError } from '../domain/errors.js';
import type { ModelApi } from '../domain/model.js';
import type { Store } from '../ports/store.js';
import { openModelKey } from './model-key-seal.js';

/** Where a project's model calls go: an OpenAI-compatible endpoint, the model `"auto"` means, and its key. */
export interface ModelEndpoint {
  /** `/v1` included, no trailing slash. */
  baseUrl: string;
  model: string;
  api: ModelApi;
  /** The key, or how to read it on first use (AWS: its secret). Absent for a keyless (local) endpoint. */
  apiKey?: string | (() => Promise<string>);
}

/** The resolved endpoint of one call, its key in hand. Never logged: it holds the key. */
export interface ResolvedModelEndpoint {
  baseUrl: string;
  model: string;
  api: ModelApi;
  apiKey?: string;
}

/**
 * The server-wide endpoint from its environment values (both base URL and model, or neither).
 * @throws Error naming the missing variable when only one of them is set
 */
export function serverModelEndpoint(
  values: { baseUrl?: string | undefined; model?: string | undefined; apiKey?: string | undefined; api: ModelApi },
  names: { modelBaseUrl: string; modelName: string },
): { model?: ModelEndpoint } {
  const { baseUrl, model, apiKey, api } = values;
  if (!baseUrl && !model) return {};
  if (!baseUrl || !model) {
    const missing = baseUrl ? names.modelName : names.modelBaseUrl;
    throw new Error(
      `Invalid configuration:\n  ${missing}: required with ${baseUrl ? names.modelBaseUrl : names.modelName}`,
    );
  }
  return { model: { baseUrl: baseUrl.replace(/\/+$/, ''), model, api, ...(apiKey ? { apiKey } : {}) } };
}

export interface ModelEndpointsOptions {
  store: Store;
  /** The server-wide default, for projects without an endpoint of their own. */
  serverDefault?: ModelEndpoint | undefined;
  /** The key projects' model keys are sealed under (the contexts' key), or how to read it. */
  sealKey?: Buffer | (() => Promise<Buffer>) | undefined;
}

/** Which endpoint a project's calls go to: its own (`wallcrawler projects model set`), else the server's. */
export class ModelEndpoints {
  readonly #store: Store;
  readonly #serverDefault: ModelEndpoint | undefined;
  readonly #sealKey: (() => Promise<Buffer>) | undefined;

  constructor({ store, serverDefault, sealKey }: ModelEndpointsOptions) {
    this.#store = store;
    this.#serverDefault = serverDefault;
    this.#sealKey = typeof sealKey === 'function' || sealKey === undefined ? sealKey : async () => sealKey;
  }

  /** @throws ModelNotConfiguredError when neither the project nor the server has one */
  async resolve(projectId: string): Promise<ResolvedModelEndpoint> {
    const own = await this.#store.getProjectModel(projectId);
    if (own) {
      const { baseUrl, model, api, sealedApiKey } = own;
      if (!sealedApiKey) return { baseUrl, model, api };
      if (!this.#sealKey) throw new Error('The server has no key to open project model keys with.');
      return { baseUrl, model, api, apiKey: openModelKey(await this.#sealKey(), projectId, sealedApiKey) };
    }
    const fallback = this.#serverDefault;
    if (!fallback) throw new ModelNotConfiguredError(projectId);
    const { apiKey, ...rest } = fallback;
    if (apiKey === undefined) return rest;
    return { ...rest, apiKey: typeof apiKey === 'string' ? apiKey : await apiKey() };
  }
}
