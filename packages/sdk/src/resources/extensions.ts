import { pathParam } from '../path-param.js';
import type { RequestOptions } from '../transport.js';
import type { Extension } from '../types.js';
import { type APIContext, expectData } from './api-context.js';
import { type Uploadable, uploadForm } from './uploadable.js';

/** Chrome extensions sessions can load: `client.extensions`. */
export class Extensions {
  readonly #api: APIContext;

  constructor(api: APIContext) {
    this.#api = api;
  }

  /**
   * Uploads a zip with `manifest.json` at its root. Load it into a session with
   * `sessions.create({ extensionId })`.
   * @example await client.extensions.create({ file: fs.createReadStream('extension.zip') })
   */
  async create(params: { file: Uploadable; fileName?: string }, options?: RequestOptions): Promise<Extension> {
    const form = await uploadForm(params.file, params.fileName);
    return expectData(
      this.#api.raw.POST('/v1/extensions', {
        // openapi-fetch sends a FormData body as it is, with its multipart boundary.
        body: form as unknown as { file: string },
        ...this.#api.callOptions(options),
      }),
    );
  }

  async retrieve(id: string, options?: RequestOptions): Promise<Extension> {
    return expectData(
      this.#api.raw.GET('/v1/extensions/{id}', {
        params: { path: { id: pathParam('id', id) } },
        ...this.#api.callOptions(options),
      }),
    );
  }

  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.#api.raw.DELETE('/v1/extensions/{id}', {
      params: { path: { id: pathParam('id', id) } },
      ...this.#api.callOptions(options),
    });
  }
}
