import { pathParam } from '../path-param.js';
import type { RequestOptions } from '../transport.js';
import type { Project, ProjectListResponse, ProjectUsage } from '../types.js';
import { type APIContext, expectData } from './api-context.js';

/** Projects the API key covers: `client.projects`. */
export class Projects {
  readonly #api: APIContext;

  constructor(api: APIContext) {
    this.#api = api;
  }

  /** The projects the API key covers. */
  async list(options?: RequestOptions): Promise<ProjectListResponse> {
    return expectData(this.#api.raw.GET('/v1/projects', this.#api.callOptions(options)));
  }

  /** A project, with its default session timeout and concurrency. */
  async retrieve(id: string, options?: RequestOptions): Promise<Project> {
    return expectData(
      this.#api.raw.GET('/v1/projects/{id}', {
        params: { path: { id: pathParam('id', id) } },
        ...this.#api.callOptions(options),
      }),
    );
  }

  /** A project's usage: browser minutes (session lifetimes, rounded up per session) and proxy bytes. */
  async usage(id: string, options?: RequestOptions): Promise<ProjectUsage> {
    return expectData(
      this.#api.raw.GET('/v1/projects/{id}/usage', {
        params: { path: { id: pathParam('id', id) } },
        ...this.#api.callOptions(options),
      }),
    );
  }
}
