import { pathParam } from '../path-param.js';
import type { RequestOptions } from '../transport.js';
import type {
  RecordingDownloads,
  ReplayListing,
  Session,
  SessionCreateParams,
  SessionCreateResponse,
  SessionDebugParams,
  SessionListParams,
  SessionListResponse,
  SessionLiveURLs,
  SessionLog,
  SessionRecording,
  SessionRetrieveResponse,
  SessionUpdateParams,
  SessionUploadResponse,
} from '../types.js';
import { type APIContext, expectData } from './api-context.js';
import { type Uploadable, uploadForm } from './uploadable.js';

/** A session's downloads: `client.sessions.downloads`. */
export class SessionDownloads {
  readonly #api: APIContext;

  constructor(api: APIContext) {
    this.#api = api;
  }

  /**
   * The session's downloads as a zip, in the raw `Response` (as `@browserbasehq/sdk` returns it): read it with
   * `await response.arrayBuffer()`. A session without downloads gives a valid empty zip.
   */
  async list(id: string, options?: RequestOptions): Promise<Response> {
    const { response } = await this.#api.raw.GET('/v1/sessions/{id}/downloads', {
      params: { path: { id: pathParam('id', id) } },
      parseAs: 'stream',
      ...this.#api.callOptions({ ...options, headers: { accept: 'application/zip', ...options?.headers } }),
    });
    return response;
  }
}

/** A session's CDP log: `client.sessions.logs`. */
export class SessionLogs {
  readonly #api: APIContext;

  constructor(api: APIContext) {
    this.#api = api;
  }

  /** The CDP commands the session's clients sent, with the answers, oldest first (secrets redacted). */
  async list(id: string, options?: RequestOptions): Promise<SessionLog[]> {
    return expectData(
      this.#api.raw.GET('/v1/sessions/{id}/logs', {
        params: { path: { id: pathParam('id', id) } },
        ...this.#api.callOptions(options),
      }),
    );
  }
}

/** Video downloads of a recording: `client.sessions.recording.downloads`. Wallcrawler renders no video. */
export class RecordingDownloadsResource {
  readonly #api: APIContext;

  constructor(api: APIContext) {
    this.#api = api;
  }

  /** Browserbase's request for MP4s: Wallcrawler answers `FAILED` for every page (it renders no video). */
  async create(id: string, options?: RequestOptions): Promise<RecordingDownloads> {
    return expectData(
      this.#api.raw.POST('/v1/sessions/{id}/recording/downloads', {
        params: { path: { id: pathParam('id', id) } },
        ...this.#api.callOptions(options),
      }),
    );
  }

  async list(id: string, options?: RequestOptions): Promise<RecordingDownloads> {
    return expectData(
      this.#api.raw.GET('/v1/sessions/{id}/recording/downloads', {
        params: { path: { id: pathParam('id', id) } },
        ...this.#api.callOptions(options),
      }),
    );
  }
}

/** A session's rrweb recording: `client.sessions.recording`. */
export class SessionRecordingResource {
  readonly #api: APIContext;
  readonly downloads: RecordingDownloadsResource;

  constructor(api: APIContext) {
    this.#api = api;
    this.downloads = new RecordingDownloadsResource(api);
  }

  /** Every rrweb event of every page, in order. */
  async retrieve(id: string, options?: RequestOptions): Promise<SessionRecording[]> {
    return expectData(
      this.#api.raw.GET('/v1/sessions/{id}/recording', {
        params: { path: { id: pathParam('id', id) } },
        ...this.#api.callOptions(options),
      }),
    );
  }
}

/** Replays of a session's pages: `client.sessions.replays`. */
export class SessionReplays {
  readonly #api: APIContext;

  constructor(api: APIContext) {
    this.#api = api;
  }

  /**
   * Browserbase's HLS playlist of one page. Wallcrawler renders no video, so this rejects with a 501
   * `APIError` (`not_supported`); open the page's `url` from {@link retrieve} instead.
   */
  async retrievePage(id: string, pageId: string, options?: RequestOptions): Promise<Response> {
    const { response } = await this.#api.raw.GET('/v1/sessions/{id}/replays/{pageId}', {
      params: { path: { id: pathParam('id', id), pageId: pathParam('pageId', pageId) } },
      parseAs: 'stream',
      ...this.#api.callOptions(options),
    });
    return response;
  }

  /** The recorded pages, each with the URL of a page that replays it (valid `expiresIn` seconds). */
  async retrieve(id: string, query: { expiresIn?: number } = {}, options?: RequestOptions): Promise<ReplayListing> {
    return expectData(
      this.#api.raw.GET('/v1/sessions/{id}/replays', {
        params: { path: { id: pathParam('id', id) }, query },
        ...this.#api.callOptions(options),
      }),
    );
  }
}

/** Files for a session's page: `client.sessions.uploads`. */
export class SessionUploads {
  readonly #api: APIContext;

  constructor(api: APIContext) {
    this.#api = api;
  }

  /**
   * Uploads a file where the running session's browser can read it; `path` is what to give a file input (CDP
   * `DOM.setFileInputFiles`).
   */
  async create(
    id: string,
    params: { file: Uploadable; fileName?: string },
    options?: RequestOptions,
  ): Promise<SessionUploadResponse> {
    const form = await uploadForm(params.file, params.fileName);
    return expectData(
      this.#api.raw.POST('/v1/sessions/{id}/uploads', {
        params: { path: { id: pathParam('id', id) } },
        // openapi-fetch sends a FormData body as it is, with its multipart boundary.
        body: form as unknown as { file: string },
        ...this.#api.callOptions(options),
      }),
    );
  }
}

/** Browser sessions: `client.sessions`. */
export class Sessions {
  readonly #api: APIContext;
  /** The session's downloads, as a zip. */
  readonly downloads: SessionDownloads;
  /** Files for the session's page. */
  readonly uploads: SessionUploads;
  /** The session's CDP log. */
  readonly logs: SessionLogs;
  /** The session's rrweb recording. */
  readonly recording: SessionRecordingResource;
  /** Replay pages of the session's recorded pages. */
  readonly replays: SessionReplays;

  constructor(api: APIContext) {
    this.#api = api;
    this.downloads = new SessionDownloads(api);
    this.uploads = new SessionUploads(api);
    this.logs = new SessionLogs(api);
    this.recording = new SessionRecordingResource(api);
    this.replays = new SessionReplays(api);
  }

  /**
   * Launches a browser and resolves once it accepts CDP connections at `connectUrl`. Over the project's
   * concurrency the server answers 429, which is retried after its `Retry-After`.
   */
  async create(params: SessionCreateParams = {}, options?: RequestOptions): Promise<SessionCreateResponse> {
    const { api_timeout, ...body } = params;
    if (api_timeout !== undefined && body.timeout === undefined) body.timeout = api_timeout;
    return expectData(this.#api.raw.POST('/v1/sessions', { body, ...this.#api.callOptions(options) }));
  }

  /** A session; `connectUrl`, `seleniumRemoteUrl` and `signingKey` are present while it runs. */
  async retrieve(id: string, options?: RequestOptions): Promise<SessionRetrieveResponse> {
    return expectData(
      this.#api.raw.GET('/v1/sessions/{id}', {
        params: { path: { id: pathParam('id', id) } },
        ...this.#api.callOptions(options),
      }),
    );
  }

  /**
   * Updates a session; `{ status: 'REQUEST_RELEASE' }` ends it and resolves with its final state. Releasing an
   * ended session returns it unchanged.
   */
  async update(id: string, body: SessionUpdateParams, options?: RequestOptions): Promise<Session> {
    return expectData(
      this.#api.raw.POST('/v1/sessions/{id}', {
        params: { path: { id: pathParam('id', id) } },
        body,
        ...this.#api.callOptions(options),
      }),
    );
  }

  /** The project's sessions, newest first, optionally filtered by `status` or a user-metadata query `q`. */
  async list(query: SessionListParams = {}, options?: RequestOptions): Promise<SessionListResponse> {
    return expectData(this.#api.raw.GET('/v1/sessions', { params: { query }, ...this.#api.callOptions(options) }));
  }

  /** Live DevTools URLs of a running session and each of its pages; valid `expiresIn` seconds if given. */
  async debug(id: string, query: SessionDebugParams = {}, options?: RequestOptions): Promise<SessionLiveURLs> {
    return expectData(
      this.#api.raw.GET('/v1/sessions/{id}/debug', {
        params: { path: { id: pathParam('id', id) }, query },
        ...this.#api.callOptions(options),
      }),
    );
  }
}
