/**
 * Creating and releasing sessions: through `@wallcrawler/sdk` when it can be imported, otherwise plain `fetch`
 * with the same requests (`POST /v1/sessions`, `POST /v1/sessions/{id}` with `REQUEST_RELEASE`).
 * Retries are off: a failure must show, not be hidden inside a timing.
 */
import { onCleanup, throwIfAborted } from './cleanup.js';

export interface CreatedSession {
  id: string;
  connectUrl: string;
}

/** What the bench creates sessions with. */
export interface CreateParams {
  keepAlive?: boolean;
  browserSettings?: { logSession?: boolean };
}

export interface SessionsApi {
  /** Which client made the calls. */
  readonly kind: 'sdk' | 'fetch';
  create(params?: CreateParams): Promise<CreatedSession>;
  release(id: string): Promise<void>;
  /** The session's status (RUNNING, COMPLETED, ...). */
  status(id: string): Promise<string>;
}

interface SdkLike {
  sessions: {
    create(params?: CreateParams): Promise<{ id: string; connectUrl?: string | null }>;
    update(id: string, body: { status: 'REQUEST_RELEASE' }): Promise<unknown>;
    retrieve(id: string): Promise<{ status: string }>;
  };
}

async function sdkApi(baseURL: string, apiKey: string): Promise<SessionsApi | undefined> {
  let mod: { Wallcrawler?: new (options: Record<string, unknown>) => SdkLike };
  try {
    mod = (await import('@wallcrawler/sdk')) as unknown as typeof mod;
  } catch {
    return undefined;
  }
  if (typeof mod.Wallcrawler !== 'function') return undefined;
  const client = new mod.Wallcrawler({ apiKey, baseURL, maxRetries: 0 });
  return {
    kind: 'sdk',
    async create(params = {}) {
      throwIfAborted();
      const s = await client.sessions.create(params);
      if (!s.connectUrl) throw new Error(`session ${s.id} came back without a connectUrl`);
      return { id: s.id, connectUrl: s.connectUrl };
    },
    async release(id) {
      await client.sessions.update(id, { status: 'REQUEST_RELEASE' });
    },
    async status(id) {
      return (await client.sessions.retrieve(id)).status;
    },
  };
}

function fetchApi(baseURL: string, apiKey: string): SessionsApi {
  const post = async (path: string, body: unknown, expect: number) => {
    const response = await fetch(`${baseURL}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-wc-api-key': apiKey },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== expect) throw new Error(`POST ${path} -> ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  return {
    kind: 'fetch',
    async create(params = {}) {
      throwIfAborted();
      const s = await post('/v1/sessions', params, 201);
      return { id: String(s.id), connectUrl: String(s.connectUrl) };
    },
    async release(id) {
      await post(`/v1/sessions/${encodeURIComponent(id)}`, { status: 'REQUEST_RELEASE' }, 200);
    },
    async status(id) {
      const response = await fetch(`${baseURL}/v1/sessions/${encodeURIComponent(id)}`, {
        headers: { accept: 'application/json', 'x-wc-api-key': apiKey },
      });
      if (!response.ok) throw new Error(`GET /v1/sessions/${id} -> ${response.status}`);
      return String(((await response.json()) as { status?: unknown }).status);
    },
  };
}

export async function sessionsApi(baseURL: string, apiKey: string, preferSdk = true): Promise<SessionsApi> {
  return (preferSdk ? await sdkApi(baseURL, apiKey) : undefined) ?? fetchApi(baseURL, apiKey);
}

/**
 * Registers a created session for release on abort; call the returned function once it was released normally.
 */
export function releaseOnCleanup(api: SessionsApi, id: string): () => void {
  return onCleanup(`release session ${id}`, () => api.release(id));
}
