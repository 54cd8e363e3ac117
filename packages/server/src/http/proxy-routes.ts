import type { ProxyRoute } from '@wallcrawler/contracts';
import type { SessionCreateParams } from '../schemas/session.js';
import { ApiError } from './api-error.js';

type ProxyEntry = Exclude<NonNullable<SessionCreateParams['proxies']>, boolean>[number];

/**
 * The routes of a create body's `proxies`: entries of type `external` (an HTTP proxy of the user's, with optional
 * credentials) and `none` (straight out), each for the hosts its `domainPattern` matches (a regular expression
 * the whole host name must match, case-insensitive; every host without one). `true` and entries of type
 * `browserbase` were refused before this, or are ignored (`WALLCRAWLER_UNSUPPORTED_FIELDS=ignore`): they are left
 * out here. Undefined when no entry sends anything through a proxy.
 * @throws ApiError 400 `validation_failed` for an entry that cannot be used, naming each one
 */
export function proxyRoutesFrom(proxies: SessionCreateParams['proxies']): ProxyRoute[] | undefined {
  if (!Array.isArray(proxies)) return undefined;
  const problems: { path: string; message: string }[] = [];
  const routes: ProxyRoute[] = [];
  proxies.forEach((entry: ProxyEntry, i) => {
    const at = (field: string) => `body.proxies.${i}${field ? `.${field}` : ''}`;
    let pattern: RegExp | undefined;
    if (entry.domainPattern !== undefined) {
      try {
        pattern = new RegExp(`^(?:${entry.domainPattern})$`, 'i');
      } catch (error) {
        problems.push({ path: at('domainPattern'), message: `not a regular expression: ${(error as Error).message}` });
      }
    }
    if (entry.type === 'none') routes.push({ kind: 'none', pattern });
    if (entry.type !== 'external') return;
    if (!entry.server) {
      problems.push({ path: at('server'), message: 'required for a proxy of type external (http://host:port)' });
      return;
    }
    let server: URL;
    try {
      server = new URL(entry.server.includes('://') ? entry.server : `http://${entry.server}`);
    } catch {
      problems.push({ path: at('server'), message: 'not a URL: expected http://host:port' });
      return;
    }
    if (server.protocol !== 'http:') {
      problems.push({
        path: at('server'),
        message: `only HTTP proxies (http://host:port) are supported, not ${server.protocol.replace(':', '')}`,
      });
      return;
    }
    // Credentials in the URL count when the entry does not give them apart.
    const username = entry.username ?? (server.username ? decodeURIComponent(server.username) : undefined);
    const password = entry.password ?? (server.password ? decodeURIComponent(server.password) : undefined);
    routes.push({ kind: 'external', server: new URL(`http://${server.host}`), username, password, pattern });
  });
  if (problems.length > 0) {
    const summary = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new ApiError(400, 'validation_failed', `Invalid request: ${summary}`, problems);
  }
  return routes.some((r) => r.kind === 'external') ? routes : undefined;
}
