import type {
  DownloadFailure,
  ExternalProxyRoute,
  ProxyRoute,
  RecordedEvent,
  SessionLogEntry,
} from '@wallcrawler/contracts';
import { NotSupportedError } from '../domain/errors.js';
import type { Region, Viewport } from '../domain/model.js';
import type { BrowserProvider, BrowserStartRequest, ExtensionSource, ProfileHooks } from '../ports/browser-provider.js';
import type { ProxyChecker } from '../ports/proxy-checker.js';
import type { ContextService } from './context-service.js';
import type { DownloadService } from './download-service.js';
import type { ExtensionService } from './extension-service.js';
import type { SessionArtifactService } from './session-artifact-service.js';

/** What `POST /v1/sessions` may set (already validated). */
export interface CreateSessionInput {
  timeout?: number | undefined;
  keepAlive?: boolean | undefined;
  region?: Region | undefined;
  userMetadata?: Record<string, unknown> | undefined;
  viewport?: Partial<Viewport> | undefined;
  /** Start from this context; with `persist`, save the profile back into it when the session ends. */
  context?: { id: string; persist?: boolean | undefined } | undefined;
  /** Load this uploaded extension. */
  extensionId?: string | undefined;
  /** Log the session's CDP traffic. @default true */
  logSession?: boolean | undefined;
  /** Record the session's pages with rrweb. @default true */
  recordSession?: boolean | undefined;
  /** Where the session's traffic goes: proxies of the user's (checked before anything starts). */
  proxies?: readonly ProxyRoute[] | undefined;
}

/** What the browser needs before it starts: checked before anything is stored or a host slot is taken. */
export type StartPrerequisites = Pick<BrowserStartRequest, 'profile' | 'extensions' | 'proxies'>;

/** What a session keeps of itself: its downloads, CDP log and recording. */
export type KeepingHooks = Pick<BrowserStartRequest, 'downloads' | 'logs' | 'recording'>;

export interface BrowserStartPlannerOptions {
  provider: BrowserProvider;
  /** Asks each proxy of a session for a tunnel before the session starts. */
  proxies: ProxyChecker;
  /** Sessions with a context need it; without it they are refused. */
  contexts?: ContextService | undefined;
  /** Sessions with an extension need it; without it they are refused. */
  extensions?: ExtensionService | undefined;
  /** Keeps and serves sessions' downloads; without it, downloads are not collected. */
  downloads?: DownloadService | undefined;
  /** Keeps and serves CDP logs and recordings; without it, sessions are neither logged nor recorded. */
  artifacts?: SessionArtifactService | undefined;
  /** The most one session's downloads may add up to. @default 512 MiB */
  sessionDownloadsMaxBytes?: number;
  /** The most one session's CDP log keeps. @default 16 MiB */
  sessionLogMaxBytes?: number;
  /** The most one session's recording keeps. @default 64 MiB */
  sessionRecordingMaxBytes?: number;
}

/**
 * Turns a create's input into what the provider starts the browser with: the context's profile hooks, the
 * extension, the checked proxies (all before anything is stored, so a refused create leaves nothing), and what
 * the session keeps of itself. Refuses, with a clear 501, what this deployment cannot do.
 */
export class BrowserStartPlanner {
  readonly #o: BrowserStartPlannerOptions;

  constructor(options: BrowserStartPlannerOptions) {
    this.#o = options;
  }

  /**
   * @throws NotSupportedError where the deployment cannot; the context's, extension's and proxy checks' errors
   */
  async prerequisites(projectId: string, input: CreateSessionInput): Promise<StartPrerequisites> {
    const profile = input.context ? await this.#profile(projectId, input.context) : undefined;
    const extension = input.extensionId ? await this.#extension(projectId, input.extensionId) : undefined;
    if (input.proxies) await this.#checkProxies(input.proxies);
    return {
      ...(profile ? { profile } : {}),
      ...(extension ? { extensions: [extension] } : {}),
      ...(input.proxies ? { proxies: input.proxies } : {}),
    };
  }

  /** What the session keeps of itself (its downloads, CDP log, recording), where this deployment can. */
  keeping(sessionId: string, input: CreateSessionInput): KeepingHooks {
    const { provider, downloads, artifacts } = this.#o;
    if (!provider.capabilities.files) return {};
    return {
      ...(downloads
        ? {
            downloads: {
              maxBytes: this.#o.sessionDownloadsMaxBytes ?? 512 * 1024 * 1024,
              keep: (dir: string, failures: readonly DownloadFailure[]) => downloads.keep(sessionId, dir, failures),
            },
          }
        : {}),
      ...(artifacts && input.logSession !== false
        ? {
            logs: {
              maxBytes: this.#o.sessionLogMaxBytes ?? 16 * 1024 * 1024,
              keep: (entries: readonly SessionLogEntry[]) => artifacts.keepLogs(sessionId, entries),
            },
          }
        : {}),
      ...(artifacts && input.recordSession !== false
        ? {
            recording: {
              maxBytes: this.#o.sessionRecordingMaxBytes ?? 64 * 1024 * 1024,
              keep: (events: readonly RecordedEvent[]) => artifacts.keepRecording(sessionId, events),
            },
          }
        : {}),
    };
  }

  /** @throws NotSupportedError where sessions cannot use proxies; ProxyAuthError (407); ProxyUnreachableError */
  async #checkProxies(routes: readonly ProxyRoute[]): Promise<void> {
    if (!this.#o.provider.capabilities.proxies) {
      throw new NotSupportedError(
        'This deployment cannot route sessions through proxies (its browser provider cannot hand them to its browsers). Create the session without proxies.',
      );
    }
    const external = routes.filter((r): r is ExternalProxyRoute => r.kind === 'external');
    await Promise.all(external.map((route) => this.#o.proxies.check(route)));
  }

  async #profile(projectId: string, context: { id: string; persist?: boolean | undefined }): Promise<ProfileHooks> {
    if (!this.#o.provider.capabilities.contexts) {
      throw new NotSupportedError(
        'This deployment cannot start sessions from contexts yet (its browsers run elsewhere and start with a clean profile). Create the session without browserSettings.context.',
      );
    }
    if (!this.#o.contexts) {
      throw new NotSupportedError('This deployment has no blob store, so it cannot keep contexts.');
    }
    return this.#o.contexts.profileHooks(projectId, context.id, context.persist === true);
  }

  async #extension(projectId: string, extensionId: string): Promise<ExtensionSource> {
    if (!this.#o.provider.capabilities.extensions) {
      throw new NotSupportedError(
        'This deployment cannot load extensions into sessions yet (its browsers run elsewhere). Create the session without extensionId.',
      );
    }
    if (!this.#o.extensions) {
      throw new NotSupportedError('This deployment has no blob store, so it cannot keep extensions.');
    }
    return this.#o.extensions.source(projectId, extensionId);
  }
}
