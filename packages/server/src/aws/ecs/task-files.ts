import { Readable } from 'node:stream';
import {
  type DownloadListing,
  type RecordedEvent,
  type SessionFilesResource,
  type SessionLogEntry,
  sessionFilesPath,
} from '@wallcrawler/contracts';
import { ControllerUnreachableError, SessionEndingError, SessionNotRunningError } from '../../domain/errors.js';
import type { SessionRecord } from '../../domain/model.js';
import type { LiveDownloads, LiveSessionFiles } from '../../ports/browser-provider.js';

/** How long a call to a task may take before it counts as unreachable (a file's body streams after this). */
const CALL_TIMEOUT_MS = 10_000;

export interface TaskFilesOptions {
  session: SessionRecord & { connectEndpoint: string };
  /** A short-lived connect token for the session, which the task's controller checks. */
  token: () => Promise<string>;
}

/**
 * A running session's files, read from (and uploads written to) its Fargate task: the task's controller serves
 * them at `sessionFilesPath` to a caller with the session's connect token, as it serves the Stagehand calls. A
 * task that says the session is ending (410) is a SessionEndingError; one that cannot be reached is a
 * ControllerUnreachableError.
 */
export class TaskFiles implements LiveSessionFiles {
  readonly #session: TaskFilesOptions['session'];
  readonly #token: TaskFilesOptions['token'];

  constructor({ session, token }: TaskFilesOptions) {
    this.#session = session;
    this.#token = token;
  }

  async downloads(): Promise<LiveDownloads> {
    const listing = (await (await this.#call('downloads')).json()) as DownloadListing;
    return {
      failures: listing.failures,
      files: listing.files.map(({ name, size }) => ({
        name,
        size,
        open: async () => {
          const response = await this.#call('downloads', { fileName: name, timeout: false });
          return Readable.fromWeb(response.body as never);
        },
      })),
    };
  }

  async logs(): Promise<SessionLogEntry[] | undefined> {
    return ((await (await this.#call('logs')).json()) as SessionLogEntry[] | null) ?? undefined;
  }

  async recording(): Promise<RecordedEvent[] | undefined> {
    return ((await (await this.#call('recording')).json()) as RecordedEvent[] | null) ?? undefined;
  }

  /** @returns the file's path in the task, for `DOM.setFileInputFiles` */
  async upload(fileName: string, bytes: Uint8Array): Promise<string> {
    const response = await this.#call('uploads', { query: `?name=${encodeURIComponent(fileName)}`, body: bytes });
    return ((await response.json()) as { path: string }).path;
  }

  async #call(
    resource: SessionFilesResource,
    {
      fileName,
      query = '',
      body,
      timeout = true,
    }: { fileName?: string; query?: string; body?: Uint8Array; timeout?: boolean } = {},
  ): Promise<Response> {
    const base = this.#session.connectEndpoint.replace(/^ws/, 'http');
    let response: Response;
    try {
      response = await fetch(`${base}${sessionFilesPath(resource, fileName)}${query}`, {
        method: body ? 'POST' : 'GET',
        headers: {
          authorization: `Bearer ${await this.#token()}`,
          ...(body ? { 'content-type': 'application/octet-stream' } : {}),
        },
        ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
        // Only until the answer starts: a download's body may take longer.
        ...(timeout ? { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) } : {}),
      });
    } catch {
      throw new ControllerUnreachableError("The session's browser task could not be reached.");
    }
    if (response.ok) return response;
    await response.body?.cancel();
    if (response.status === 410) {
      if (body) throw new SessionNotRunningError(this.#session.id, 'ending');
      throw new SessionEndingError(this.#session.id);
    }
    throw new ControllerUnreachableError(`The session's browser task answered ${response.status} for its ${resource}.`);
  }
}
