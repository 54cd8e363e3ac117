import type { ExternalProxyRoute } from '@wallcrawler/contracts';
import { checkProxy, UpstreamProxyError } from '@wallcrawler/controller';
import { ProxyAuthError, ProxyUnreachableError } from '../domain/errors.js';
import type { ProxyChecker } from '../ports/proxy-checker.js';

/**
 * Checks a proxy over TCP, from wherever the API runs: it asks for a tunnel to a reserved name
 * (`wallcrawler-proxy-check.invalid:443`) with the route's credentials, as the session's forward proxy would.
 */
export class TunnelProxyChecker implements ProxyChecker {
  async check(route: ExternalProxyRoute): Promise<void> {
    try {
      await checkProxy(route);
    } catch (error) {
      if (error instanceof UpstreamProxyError && error.status === 407) throw new ProxyAuthError(error.message);
      throw new ProxyUnreachableError((error as Error).message);
    }
  }
}
