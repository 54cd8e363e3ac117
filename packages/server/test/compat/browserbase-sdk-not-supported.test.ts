import Browserbase, { InternalServerError } from '@browserbasehq/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_SUPPORTED_CALLS } from '../support/not-supported-calls.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Every method of `@browserbasehq/sdk` 2.21 on a resource Wallcrawler does not serve (certificates, secrets,
 * agents and their runs, functions' secrets) answers 501 `not_supported` with the one error body, a message naming
 * the gap, and `x-should-retry: false` (the SDK does not retry it), after authentication like any route.
 * docs/compatibility.md marks these methods `501 not_supported` (checked in sdk-methods-table.test.ts).
 */

describe('@browserbasehq/sdk: resources Wallcrawler does not serve', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(Object.entries(NOT_SUPPORTED_CALLS))(
    '%s answers 501 not_supported naming the gap',
    async (_, { gap, call }) => {
      const client = new Browserbase({ apiKey: t.apiKey, baseURL: t.url });
      const refused = await call(client).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(InternalServerError);
      const error = refused as InternalServerError;
      expect(error.status).toBe(501);
      expect(error.headers?.['x-should-retry']).toBe('false');
      const body = error.error as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['code', 'error', 'message', 'requestId', 'statusCode']);
      expect(body).toMatchObject({ statusCode: 501, error: 'Not Implemented', code: 'not_supported' });
      expect(body.message).toMatch(gap);
      expect(body.message).toMatch(/not supported/);
    },
  );

  it('authenticates first: without a valid key it is a 401', async () => {
    const client = new Browserbase({ apiKey: 'wc_not_a_key_000000000000', baseURL: t.url });
    const refused = await client.secrets.list().catch((e: unknown) => e);
    expect((refused as InternalServerError).status).toBe(401);
  });
});
