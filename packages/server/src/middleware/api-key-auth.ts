import type { MiddlewareHandler } from 'hono';
import { hashApiKey } from '../api-keys.js';
import {
  InvalidApiKeyError,
  MissingApiKeyError,
  ProjectNotAllowedError,
  RevokedApiKeyError,
} from '../domain/errors.js';
import type { AppEnv, AuthContext } from '../http/app-env.js';
import type { Store } from '../ports/store.js';

/** The API key of a request, from `x-wc-api-key`, `X-BB-API-Key` (what `@browserbasehq/sdk` sends) or a bearer token. */
export function apiKeyOf(header: (name: string) => string | undefined): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header('authorization') ?? '')?.[1];
  return header('x-wc-api-key') || header('x-bb-api-key') || bearer || undefined;
}

/**
 * Authenticates a request's API key and scopes it to a project: `x-wc-project-id` if given (it must be one the
 * key covers), else the key's default project.
 * @throws MissingApiKeyError, InvalidApiKeyError, RevokedApiKeyError or ProjectNotAllowedError
 */
export async function authenticate(store: Store, header: (name: string) => string | undefined): Promise<AuthContext> {
  const key = apiKeyOf(header);
  if (!key) throw new MissingApiKeyError();
  const record = await store.findApiKeyByHash(hashApiKey(key));
  if (!record) throw new InvalidApiKeyError();
  if (record.revokedAt) throw new RevokedApiKeyError();
  const requested = header('x-wc-project-id');
  const projectId = requested || record.projectIds[0];
  if (!projectId || !record.projectIds.includes(projectId)) throw new ProjectNotAllowedError(requested ?? '(none)');
  return { keyId: record.id, projectIds: record.projectIds, projectId };
}

/** Authenticates every request it sees (see `authenticate`) and sets `c.var.auth`. */
export function apiKeyAuth({ store }: { store: Store }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('auth', await authenticate(store, (name) => c.req.header(name)));
    await next();
  };
}
