import type { SessionCreateParams } from '../schemas/session.js';
import type { CreateSessionInput } from '../services/browser-start-planner.js';
import { proxyRoutesFrom } from './proxy-routes.js';

/**
 * What the session lifecycle and its start planner take from a Browserbase create body (`POST /v1/sessions`, or
 * Stagehand's start).
 * @throws ApiError 400 for proxies that cannot be used
 */
export function createInputFrom(body: SessionCreateParams): CreateSessionInput {
  const proxies = proxyRoutesFrom(body.proxies);
  return {
    ...(proxies ? { proxies } : {}),
    timeout: body.timeout,
    keepAlive: body.keepAlive,
    region: body.region,
    userMetadata: body.userMetadata,
    viewport: body.browserSettings?.viewport,
    context: body.browserSettings?.context,
    extensionId: body.extensionId ?? body.browserSettings?.extensionId,
    logSession: body.browserSettings?.logSession,
    recordSession: body.browserSettings?.recordSession,
  };
}
