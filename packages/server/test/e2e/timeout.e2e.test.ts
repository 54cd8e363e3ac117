import { Wallcrawler } from '@wallcrawler/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { expectNothingLeft } from '../../../../test-support/index.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

// The API's shortest timeout is 60 s (as Browserbase's), so this test takes a minute; it has the file to itself
// so the rest of the suite runs beside it.
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

it('ends a session TIMED_OUT at its timeout, closing clients with the reason', { timeout: 120_000 }, async () => {
  const sdk = new Wallcrawler({ apiKey: t.apiKey, baseURL: t.url });
  const session = await sdk.sessions.create({ timeout: 60, keepAlive: true });
  expect(new Date(session.expiresAt).getTime() - new Date(session.createdAt).getTime()).toBe(60_000);
  const ws = new WebSocket(session.connectUrl);
  await new Promise((r) => ws.once('open', r));
  const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  expect(closed).toEqual({ code: 1000, reason: 'The session reached its timeout' });
  const ended = await sdk.sessions.retrieve(session.id);
  expect(ended.status).toBe('TIMED_OUT');
  expect(new Date(ended.endedAt as string).getTime()).toBeGreaterThanOrEqual(new Date(session.expiresAt).getTime());
  await expectNothingLeft(t.dataDir);
});
