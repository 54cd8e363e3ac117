/**
 * SessionRecorder, on real Chromium and real pages: from a CDP connection of its own it records every page with
 * rrweb (each page its own id, in the order pages came), masks passwords, stays out of the page's own scripts'
 * world, and stops at its size limit.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, RecordedEvent } from '@wallcrawler/contracts';
import { waitFor } from '@wallcrawler/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BrowserSession } from '../src/browser-session.js';
import { CdpClient } from '../src/cdp/cdp-client.js';
import { SessionRecorder } from '../src/recording/session-recorder.js';
import { cdpClient, useSessions } from './support/sessions.js';

const { start, defer } = useSessions();

const SECRET = 'hunter2-in-the-html';
/** The page's own script reports what of the recorder it can see, in its title. */
const FORM = `<!doctype html><html><head><title>form</title></head><body>
<h1>Visible heading</h1>
<label>Name <input id="name"></label>
<label>Password <input id="pw" type="password" value="${SECRET}"></label>
<script>document.title = [typeof __wallcrawlerRecord, typeof rrwebRecord, typeof __wallcrawlerRecording].join(',')</script>
</body></html>`;

let pages: Server;
let site: string;

beforeAll(async () => {
  pages = createServer((request, response) => {
    const body = request.url === '/form' ? FORM : `<!doctype html><title>other</title><p>${'filler '.repeat(500)}</p>`;
    response.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  site = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => pages.close(() => resolve())));

/** A logger that keeps its warnings. */
function warnings(): Logger & { warned: string[] } {
  const warned: string[] = [];
  const logger: Logger & { warned: string[] } = {
    warned,
    debug: () => {},
    info: () => {},
    warn: (_fields, message) => void warned.push(String(message)),
    error: () => {},
    child: () => logger,
  };
  return logger;
}

/** A recorder on its own CDP connection to the session's browser, as the session's monitor runs one. */
async function record(session: BrowserSession, maxBytes: number, logger: Logger = warnings()) {
  const cdp = await CdpClient.connect(`ws://127.0.0.1:${session.port}${session.browserPath}`);
  defer(() => cdp.close());
  return { cdp, recorder: await SessionRecorder.start(cdp, { maxBytes, logger }) };
}

/** Opens `url` in a new tab and returns a client of that page, straight to Chromium. */
async function open(session: BrowserSession, cdp: CdpClient, url: string) {
  const { targetId } = (await cdp.send('Target.createTarget', { url })) as { targetId: string };
  const page = await cdpClient(`ws://127.0.0.1:${session.port}/devtools/page/${targetId}`);
  defer(() => page.ws.terminate());
  return page;
}

const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const META = 4;
const INPUT_SOURCE = 5;

/** The id the recorder gave the page at `href` (its Meta event names it). */
const pageIdOf = (events: RecordedEvent[], href: string) =>
  events.find((e) => e.type === META && (e.data as { href?: string }).href === href)?.pageId;
const ofPage = (events: RecordedEvent[], pageId: string | undefined) => events.filter((e) => e.pageId === pageId);

it('records each page with rrweb, masks passwords, and stays out of the page scripts’ world', async () => {
  const session = await start({ keepAlive: true });
  const { cdp, recorder } = await record(session, 16 * 1024 * 1024);
  const form = await open(session, cdp, `${site}/form`);

  const formId = await waitFor(() => pageIdOf(recorder.events(), `${site}/form`), { message: 'the form’s Meta' });
  const snapshot = await waitFor(() => ofPage(recorder.events(), formId).find((e) => e.type === FULL_SNAPSHOT), {
    message: 'the form’s full snapshot',
  });
  expect(JSON.stringify(snapshot.data)).toContain('Visible heading');

  // What a user types is recorded; into a password field, only masked.
  await form.send('Runtime.evaluate', { expression: 'document.getElementById("name").focus()' });
  await form.send('Input.insertText', { text: 'Ada' });
  await form.send('Runtime.evaluate', { expression: 'document.getElementById("pw").focus()' });
  await form.send('Input.insertText', { text: 'typed-secret' });
  const inputs = () =>
    ofPage(recorder.events(), formId).filter(
      (e) => e.type === INCREMENTAL && (e.data as { source?: number }).source === INPUT_SOURCE,
    );
  await waitFor(() => inputs().some((e) => (e.data as { text?: string }).text === 'Ada'), {
    message: 'the typed name',
  });
  // Typing is recorded as the last value per field, once the field is left.
  await form.send('Runtime.evaluate', { expression: 'document.getElementById("name").focus()' });
  const masked = '*'.repeat('typed-secret'.length + SECRET.length);
  await waitFor(() => inputs().some((e) => (e.data as { text?: string }).text === masked), {
    message: 'the typed password, masked',
  });
  expect(JSON.stringify(snapshot.data)).toContain(`"value":"${'*'.repeat(SECRET.length)}"`);
  const everything = JSON.stringify(recorder.events());
  expect(everything).not.toContain(SECRET);
  expect(everything).not.toContain('typed-secret');

  // The recorder runs in an isolated world: the page's scripts see none of it.
  const { result } = await form.send('Runtime.evaluate', { expression: 'document.title', returnByValue: true });
  expect((result as { value: string }).value).toBe('undefined,undefined,undefined');

  // The next page gets the next id (the browser's first, blank, tab had one too), recorded from its beginning.
  await open(session, cdp, `${site}/other`);
  const otherId = await waitFor(() => pageIdOf(recorder.events(), `${site}/other`), { message: 'the other’s Meta' });
  expect(Number(otherId)).toBe(Number(formId) + 1);
  await waitFor(() => ofPage(recorder.events(), otherId).some((e) => e.type === FULL_SNAPSHOT), {
    message: 'the other page’s full snapshot',
  });
  // Returned as copies: the caller cannot change the recording.
  recorder.events().splice(0);
  expect(recorder.events().length).toBeGreaterThan(0);
});

it('stops at its size limit, keeping the beginning, and says so once', async () => {
  const session = await start({ keepAlive: true });
  const logger = warnings();
  const maxBytes = 4 * 1024;
  const { cdp, recorder } = await record(session, maxBytes, logger);
  await open(session, cdp, `${site}/form`);
  await waitFor(() => pageIdOf(recorder.events(), `${site}/form`), { message: 'the form’s Meta' });
  // The filler page's snapshot alone is past the limit.
  await open(session, cdp, `${site}/other`);
  await waitFor(() => logger.warned.length > 0, { message: 'the recording to reach its limit' });
  expect(logger.warned).toEqual(['the recording reached its size limit and stopped']);
  const kept = recorder.events();
  const bytes = kept.reduce((sum, e) => sum + JSON.stringify(e.data).length, 0);
  expect(bytes).toBeLessThanOrEqual(maxBytes);
  // The first page is kept whole; of the filler page, only what came before its snapshot went past the limit.
  const formId = pageIdOf(kept, `${site}/form`);
  expect(ofPage(kept, formId).some((e) => e.type === FULL_SNAPSHOT)).toBe(true);
  const otherId = pageIdOf(kept, `${site}/other`);
  expect(otherId).toBeDefined();
  expect(ofPage(kept, otherId).some((e) => e.type === FULL_SNAPSHOT)).toBe(false);
  expect(JSON.stringify(kept)).not.toContain('filler filler');
});
