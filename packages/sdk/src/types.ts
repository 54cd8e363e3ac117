// Friendly names for the generated schema types, matching the names `@browserbasehq/sdk` uses where it has them.
// Derived, never hand-written, so openapi.yaml stays the one source of truth.
import type { components, operations } from './generated/openapi.js';

type Schemas = components['schemas'];

/** The one error body of every non-2xx response. */
export type ErrorBody = Schemas['Error'];
/** One validation problem in {@link ErrorBody.details}. */
export type ErrorDetail = Schemas['ErrorDetail'];

/** Lifecycle state of a session. */
export type SessionStatus = Schemas['SessionStatus'];
/** One of Browserbase's four regions; a local server reports the requested one. */
export type Region = Schemas['Region'];

/** A browser session. */
export type Session = Schemas['Session'];
/** A just-created session, with the `connectUrl` to hand to Puppeteer, Playwright or any CDP client. */
export type SessionCreateResponse = Schemas['SessionCreateResponse'];
/** A session; `connectUrl`, `seleniumRemoteUrl` and `signingKey` are present while it runs. */
export type SessionRetrieveResponse = Schemas['SessionRetrieveResponse'];
/** The project's sessions, newest first. */
export type SessionListResponse = Session[];
/** Live DevTools URLs of a running session and its pages. */
export type SessionLiveURLs = Schemas['SessionLiveURLs'];
/** One open page of a running session. */
export type SessionLivePage = Schemas['SessionLivePage'];

/** Browser window size; other keys are accepted and ignored. */
export type Viewport = Schemas['Viewport'];
/** Browser settings; `viewport` is applied, the other Browserbase settings are accepted and not yet acted on. */
export type BrowserSettings = Schemas['BrowserSettings'];

/**
 * Body of `sessions.create`. Every field is optional; unknown fields are sent as given and ignored by the server.
 * `timeout` is in seconds, as on the wire.
 */
export type SessionCreateParams = Schemas['SessionCreateParams'] & {
  /**
   * `@browserbasehq/sdk`'s name for `timeout`, accepted so code written for it keeps working; sent as `timeout`
   * unless `timeout` is also given.
   * @deprecated Use `timeout`.
   */
  api_timeout?: number;
};
/** Body of `sessions.update`: `{ status: 'REQUEST_RELEASE' }` ends the session. */
export type SessionUpdateParams = Schemas['SessionUpdateParams'];
/** Filters of `sessions.list`. */
export type SessionListParams = NonNullable<operations['listSessions']['parameters']['query']>;
/** Query of `sessions.debug`. */
export type SessionDebugParams = NonNullable<operations['debugSession']['parameters']['query']>;

/** A context: a browser profile kept between sessions. */
export type Context = Schemas['Context'];
/** Body of `contexts.create`. */
export type ContextCreateParams = Schemas['ContextCreateParams'];
/** What `contexts.create` and `contexts.update` answer (Browserbase's shape). */
export type ContextCreateResponse = Schemas['ContextCreateResponse'];

/** One rrweb event of a session's page. */
export type SessionRecording = Schemas['SessionRecording'];
/** Video downloads of a recording (Wallcrawler renders none: each page is FAILED). */
export type RecordingDownloads = Schemas['RecordingDownloads'];
/** The recorded pages, each with a replay page URL. */
export type ReplayListing = Schemas['ReplayListing'];
/** One CDP command of a session and its answer. */
export type SessionLog = Schemas['SessionLog'];
/** What `sessions.uploads.create` answers: where the file is for the browser. */
export type SessionUploadResponse = Schemas['SessionUploadResponse'];
/** An uploaded Chrome extension. */
export type Extension = Schemas['Extension'];

/** A project: the scope of sessions, with its default session timeout and concurrency. */
export type Project = Schemas['Project'];
/** The projects the API key covers. */
export type ProjectListResponse = Project[];
/** A project's usage. */
export type ProjectUsage = Schemas['ProjectUsage'];
