/**
 * The connect edge on this machine, as the stack's default deployment has it: the official clients over
 * `wss://`/`https://` through the TLS front (CloudFront's stand-in, with a throwaway CA this process trusts through
 * `NODE_EXTRA_CA_CERTS`), the gateway service's real entry command behind it, relaying to each task's own address.
 * And what it refuses itself, with the one error body and a real status line, before touching any task.
 */
import Browserbase from '@browserbasehq/sdk';
import { signConnectToken } from '@wallcrawler/contracts';
import { type PageServer, startPageServer, waitFor } from '@wallcrawler/test-support';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectNothingLeft, taskOfSession } from '../support/aws-checks.js';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';
import { closeFrameOf, rawRequest, refusalBody, upgradeHead } from '../support/raw-upgrade.js';

let pages: PageServer;
let aws: AwsTopology;
let bb: Browserbase;
let front: string;

beforeAll(async () => {
  pages = await startPageServer();
  aws = await startAwsTopology({ concurrency: 3 });
  bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
  front = aws.edge?.front.url ?? '';
});
afterAll(async () => {
  await aws?.close();
  await pages?.close();
});
afterEach(() => expectNothingLeft(aws, bb));

const edgeLog = () => aws.edge?.process.output() ?? '';
const secret = () => Buffer.from(aws.connectSecret, 'base64url');
const release = (id: string) => bb.sessions.update(id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });

/** Upgrades through the front with `token`, and reads the refusal. */
async function refusedUpgrade(token: string) {
  const answer = await rawRequest(
    `${front}/devtools/browser?signingKey=${token}`,
    upgradeHead(`${front}/devtools/browser?signingKey=${token}`),
  );
  return { statusLine: answer.statusLine, body: await refusalBody(answer) };
}

describe('the connect edge', () => {
  it('carries the official clients over wss and https, never handing out a task address', async () => {
    expect(aws.url).toBe(front);
    expect(front).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const session = await bb.sessions.create({ projectId: aws.projectId, keepAlive: true });
    const task = taskOfSession(aws, session.id);
    expect(session.connectUrl).toMatch(new RegExp(`^wss://${new URL(front).host}/devtools/browser\\?signingKey=`));
    expect(session.connectUrl).not.toContain(task.ip);
    // The task's address is in the table, for the edge alone.
    expect((await aws.sessionItem(session.id))?.connectEndpoint).toEqual({ S: expect.stringContaining(task.ip) });

    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl });
    const [page] = await browser.pages();
    await page?.goto(`${pages.url}/title/through-the-edge`);
    expect(await page?.title()).toBe('through-the-edge');
    await browser.disconnect();

    // Playwright, through DevTools discovery over https (whose socket URLs the edge rewrites to itself).
    const version = (await (await fetch(`${front}/json/version?signingKey=${session.signingKey}`)).json()) as {
      webSocketDebuggerUrl: string;
    };
    expect(version.webSocketDebuggerUrl).toMatch(new RegExp(`^wss://${new URL(front).host}/devtools/browser/`));
    const pw = await chromium.connectOverCDP(session.connectUrl);
    const pwPage = pw.contexts()[0]?.pages()[0];
    expect(await pwPage?.title()).toBe('through-the-edge');

    // The live view and the DevTools frontend, over https, their sockets over wss.
    const live = await bb.sessions.debug(session.id);
    expect(live.debuggerFullscreenUrl).toMatch(new RegExp(`^${front}/debug/${session.id}/live\\?ws=`));
    expect(live.debuggerUrl).toMatch(new RegExp(`^${front}/debug/${session.id}/devtools/inspector\\.html\\?wss=`));
    expect(live.wsUrl).toMatch(new RegExp(`^wss://${new URL(front).host}/devtools/browser\\?signingKey=`));
    const livePage = await fetch(live.debuggerFullscreenUrl);
    expect(livePage.status).toBe(200);
    expect(await livePage.text()).toContain('<html');
    expect((await fetch(live.debuggerUrl)).status).toBe(200);
    await pw.close();
    await release(session.id);
    // No line the edge wrote holds a token.
    expect(edgeLog()).not.toContain(session.signingKey);
    expect(edgeLog()).not.toContain('signingKey=');
  });

  it('refuses a tampered, expired or foreign token with the one error body and a real status line', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const good = session.signingKey;
    const tampered = `${good.slice(0, -2)}${good.endsWith('AA') ? 'BB' : 'AA'}`;
    const expired = await signConnectToken(secret(), {
      sessionId: session.id,
      projectId: aws.projectId,
      expiresAt: new Date(Date.now() - 60_000),
    });
    const foreign = await signConnectToken(Buffer.alloc(32, 7), {
      sessionId: session.id,
      projectId: aws.projectId,
      expiresAt: new Date(Date.now() + 60_000),
    });
    for (const [token, code] of [
      [tampered, 'invalid_token'],
      [expired, 'token_expired'],
      [foreign, 'invalid_token'],
    ] as const) {
      const { statusLine, body } = await refusedUpgrade(token);
      expect(statusLine).toBe('HTTP/1.1 401 Unauthorized');
      expect(body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        code,
        message: expect.any(String),
        requestId: expect.any(String),
      });
      // The edge refused it itself (the task never saw it). Its log line reaches this process through a pipe: it
      // may come after the answer.
      await waitFor(() => edgeLog().includes(`"requestId":"${body.requestId}"`), {
        timeout: 10_000,
        message: "the edge's log line of the refusal",
      });
      expect(edgeLog()).not.toContain(token);
    }
    // DevTools discovery is refused alike.
    const discovery = await fetch(`${front}/json/list?signingKey=${tampered}`);
    expect(discovery.status).toBe(401);
    expect(await discovery.json()).toMatchObject({ statusCode: 401, code: 'invalid_token' });
    await release(session.id);
  });

  it('answers 404 for an unknown session and 410 for an ended one, without a task', async () => {
    const logged = edgeLog().length;
    const unknown = await signConnectToken(secret(), {
      sessionId: '00000000-0000-4000-8000-000000000000',
      projectId: aws.projectId,
      expiresAt: new Date(Date.now() + 60_000),
    });
    const missing = await refusedUpgrade(unknown);
    expect(missing.statusLine).toBe('HTTP/1.1 404 Not Found');
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'session_not_found' });

    const session = await bb.sessions.create({ projectId: aws.projectId });
    await release(session.id);
    await waitFor(() => taskOfSession(aws, session.id).lastStatus === 'STOPPED', {
      timeout: 30_000,
      message: 'the task to stop',
    });
    const ended = await refusedUpgrade(session.signingKey);
    expect(ended.statusLine).toBe('HTTP/1.1 410 Gone');
    expect(ended.body).toMatchObject({ statusCode: 410, error: 'Gone', code: 'session_ended' });
    const live = await fetch(`${front}/debug/${session.id}/live`);
    expect(live.status).toBe(410);
    expect(await live.json()).toMatchObject({ statusCode: 410, code: 'session_ended' });
    // No upgrade reached a task: the edge connected no client.
    expect(edgeLog().slice(logged)).not.toContain('"msg":"client connected"');
  });

  it('closes a client that sends garbage, before or after its upgrade, and keeps serving the others', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId, keepAlive: true });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl });
    const [page] = await browser.pages();
    const edge = aws.edge?.process.url() ?? '';

    // Not HTTP at all, straight at the edge (as the load balancer would pass it on).
    const garbage = await rawRequest(edge, 'HELLO \x00\x01\x02 NOT HTTP\r\n\r\n');
    expect(garbage.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(await refusalBody(garbage)).toMatchObject({ statusCode: 400, code: 'malformed_request' });

    // A well-formed upgrade, then a frame no client may send (unmasked): that client alone is closed (1002).
    const url = `${front}/devtools/browser?signingKey=${session.signingKey}`;
    const upgraded = await rawRequest(url, upgradeHead(url));
    expect(upgraded.status).toBe(101);
    upgraded.socket.write(Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]));
    expect(await closeFrameOf(upgraded)).toMatchObject({ code: 1002 });

    expect(await page?.evaluate(() => 6 * 7)).toBe(42);
    await browser.disconnect();
    await release(session.id);
  });
});
