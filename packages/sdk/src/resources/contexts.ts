import { pathParam } from '../path-param.js';
import type { RequestOptions } from '../transport.js';
import type { Context, ContextCreateParams, ContextCreateResponse } from '../types.js';
import { type APIContext, expectData } from './api-context.js';

/**
 * Contexts, browser profiles kept between sessions: `client.contexts`. Start a session from one with
 * `browserSettings: { context: { id, persist: true } }`.
 */
export class Contexts {
  readonly #api: APIContext;

  constructor(api: APIContext) {
    this.#api = api;
  }

  /** Creates an empty context; `name` is unique in the project, whatever its case. */
  async create(params: ContextCreateParams = {}, options?: RequestOptions): Promise<ContextCreateResponse> {
    return expectData(this.#api.raw.POST('/v1/contexts', { body: params, ...this.#api.callOptions(options) }));
  }

  async retrieve(id: string, options?: RequestOptions): Promise<Context> {
    return expectData(
      this.#api.raw.GET('/v1/contexts/{id}', {
        params: { path: { id: pathParam('id', id) } },
        ...this.#api.callOptions(options),
      }),
    );
  }

  /** Browserbase's deprecated update: changes nothing but `updatedAt`. */
  async update(id: string, options?: RequestOptions): Promise<ContextCreateResponse> {
    return expectData(
      this.#api.raw.PUT('/v1/contexts/{id}', {
        params: { path: { id: pathParam('id', id) } },
        ...this.#api.callOptions(options),
      }),
    );
  }

  /** Deletes the context and its saved profile. */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.#api.raw.DELETE('/v1/contexts/{id}', {
      params: { path: { id: pathParam('id', id) } },
      ...this.#api.callOptions(options),
    });
  }
}
