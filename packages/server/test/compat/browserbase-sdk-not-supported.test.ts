import Browserbase, { InternalServerError, toFile } from '@browserbasehq/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Every method of `@browserbasehq/sdk` 2.21 on a resource Wallcrawler does not serve (certificates, secrets,
 * agents and their runs, functions' secrets) answers 501 `not_supported` with the one error body, a message naming
 * the gap, and `x-should-retry: false` (the SDK does not retry it), after authentication like any route.
 * docs/compatibility.md marks exactly these methods `501 not_supported` (checked in compatibility-table.test.ts).
 */

export const NOT_SUPPORTED_CALLS: Record<string, { gap: RegExp; call: (bb: Browserbase) => Promise<unknown> }> = {
  'certificates.create': {
    gap: /Certificates/,
    call: async (bb) => bb.certificates.create({ file: await toFile(Buffer.from('-----BEGIN'), 'client.pem') }),
  },
  'certificates.retrieve': { gap: /Certificates/, call: (bb) => bb.certificates.retrieve('cert-1') },
  'certificates.list': { gap: /Certificates/, call: (bb) => bb.certificates.list() },
  'certificates.delete': { gap: /Certificates/, call: (bb) => bb.certificates.delete('cert-1') },
  'secrets.create': { gap: /Secrets/, call: (bb) => bb.secrets.create({ keypairId: 'k' } as never) },
  'secrets.retrieve': { gap: /Secrets/, call: (bb) => bb.secrets.retrieve('secret-1') },
  'secrets.update': { gap: /Secrets/, call: (bb) => bb.secrets.update('secret-1', {} as never) },
  'secrets.list': { gap: /Secrets/, call: (bb) => bb.secrets.list() },
  'secrets.delete': { gap: /Secrets/, call: (bb) => bb.secrets.delete('secret-1') },
  'secrets.getPublicKey': { gap: /Secrets/, call: (bb) => bb.secrets.getPublicKey() },
  'agents.create': { gap: /Agents/, call: (bb) => bb.agents.create({ name: 'a' } as never) },
  'agents.retrieve': { gap: /Agents/, call: (bb) => bb.agents.retrieve('agent-1') },
  'agents.update': { gap: /Agents/, call: (bb) => bb.agents.update('agent-1', {}) },
  'agents.list': { gap: /Agents/, call: (bb) => bb.agents.list() },
  'agents.delete': { gap: /Agents/, call: (bb) => bb.agents.delete('agent-1') },
  'agents.runs.create': { gap: /Agents/, call: (bb) => bb.agents.runs.create({ task: 'do it' } as never) },
  'agents.runs.retrieve': { gap: /Agents/, call: (bb) => bb.agents.runs.retrieve('run-1') },
  'agents.runs.list': { gap: /Agents/, call: (bb) => bb.agents.runs.list() },
  'agents.runs.listMessages': { gap: /Agents/, call: (bb) => bb.agents.runs.listMessages('run-1') },
  'functions.secrets.list': { gap: /Functions/, call: (bb) => bb.functions.secrets.list('fn-1') },
  'functions.secrets.attach': {
    gap: /Functions/,
    call: (bb) => bb.functions.secrets.attach('fn-1', { secretId: 's' }),
  },
  'functions.secrets.detach': { gap: /Functions/, call: (bb) => bb.functions.secrets.detach('fn-1', 'secret-1') },
};

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
