import type { OpenAPIHono } from '@hono/zod-openapi';
import { NotSupportedError } from '../domain/errors.js';
import type { AppEnv } from '../http/app-env.js';

/**
 * Resources of `@browserbasehq/sdk` 2.21 that Wallcrawler does not serve, each with the paths the SDK calls
 * (its `resources/*.js`) and what is missing. Every method on them answers 501 `not_supported` with the one
 * error body (after authentication, as any route), rather than a 404 that reads like a wrong base URL.
 * docs/compatibility.md lists each SDK method and its treatment.
 */
export const NOT_SUPPORTED_RESOURCES = [
  {
    paths: ['/v1/certificates', '/v1/certificates/*'],
    gap: 'Certificates (client certificates for mutual TLS, uploaded to the project) are not supported: Wallcrawler keeps no certificates for sessions.',
  },
  {
    paths: ['/v1/secrets', '/v1/secrets/*'],
    gap: "Secrets (the project's encrypted vault, its keypair included) are not supported: Wallcrawler keeps no secrets for pages. Pass credentials from your own client instead.",
  },
  {
    paths: ['/v1/agents', '/v1/agents/*'],
    gap: "Agents and their runs (Browserbase's hosted agents) are not supported: run an agent in your own process (Stagehand's agent, for one) against a Wallcrawler session.",
  },
  {
    paths: ['/v1/functions', '/v1/functions/*'],
    gap: 'Functions and their secrets (code deployed to run next to a browser) are not supported: run your code in your own process against a Wallcrawler session.',
  },
] as const;

export function registerNotSupportedRoutes(app: OpenAPIHono<AppEnv>): void {
  for (const { paths, gap } of NOT_SUPPORTED_RESOURCES) {
    for (const path of paths) {
      app.all(path, () => {
        throw new NotSupportedError(gap);
      });
    }
  }
}
