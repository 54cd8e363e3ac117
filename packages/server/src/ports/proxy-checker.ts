import type { ExternalProxyRoute } from '@wallcrawler/contracts';

/**
 * Checks a proxy of the user's before a session that uses it starts, so that a wrong password or a dead proxy
 * fails the create at once (and stores nothing), instead of every page of the session failing later.
 */
export interface ProxyChecker {
  /**
   * Asks the proxy for a tunnel with the route's credentials.
   * @throws ProxyAuthError when the proxy refuses the credentials (407); ProxyUnreachableError otherwise
   */
  check(route: ExternalProxyRoute): Promise<void>;
}
