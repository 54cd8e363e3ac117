import type Browserbase from '@browserbasehq/sdk';
import { toFile } from '@browserbasehq/sdk';
import { waitFor } from '@wallcrawler/test-support';
import { usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer from 'puppeteer-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserbaseProject, hasKind } from '../support/browserbase.js';

/**
 * The official `@browserbasehq/sdk` against a real server and real Chromium: a session's artifacts (uploads, logs,
 * the recording, replays, recording downloads and downloads) in the shapes the SDK expects.
 */

const pages = usePageServer();
const t = useTestServer();

describe('@browserbasehq/sdk: session artifacts', () => {
  let client: Browserbase;

  beforeAll(async () => {
    ({ client } = await browserbaseProject(t, 'compat-artifacts', 5));
  });

  it('serves uploads, logs, the recording, replays, recording downloads and downloads in their shapes', async () => {
    const session = await client.sessions.create();
    const upload = await client.sessions.uploads.create(session.id, {
      file: await toFile(Buffer.from('compat upload'), 'compat.txt'),
    });
    expect(typeof upload.message).toBe('string');

    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    await (await browser.pages())[0]?.goto(`${pages.url}/title/Compat`);
    await waitFor(async () => (await client.sessions.recording.retrieve(session.id)).some((e) => e.type === 2));
    await browser.disconnect();
    await client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });

    const logs = await client.sessions.logs.list(session.id);
    const navigate = logs.find((l) => l.method === 'Page.navigate');
    expect(navigate).toMatchObject({ pageId: expect.any(Number), sessionId: session.id });
    expect(typeof navigate?.request?.rawBody).toBe('string');
    expect(typeof navigate?.response?.rawBody).toBe('string');

    const recording = await client.sessions.recording.retrieve(session.id);
    for (const event of recording.slice(0, 5)) {
      expect(event).toMatchObject({ sessionId: session.id, timestamp: expect.any(Number), type: expect.any(Number) });
      expect(hasKind(event.data, 'object')).toBe(true);
    }

    const replays = await client.sessions.replays.retrieve(session.id);
    expect(replays.pageCount).toBe(replays.pages.length);
    expect(replays.pages[0]).toMatchObject({
      pageId: '0',
      startTimeMs: expect.any(Number),
      endTimeMs: expect.any(Number),
      url: expect.any(String),
    });
    const downloads = await client.sessions.recording.downloads.create(session.id);
    expect(downloads.downloads.every((d) => d.status === 'FAILED')).toBe(true);
    expect(await client.sessions.recording.downloads.list(session.id)).toEqual(downloads);

    const zip = await client.sessions.downloads.list(session.id);
    const bytes = Buffer.from(await zip.arrayBuffer());
    // A valid empty zip: just the end-of-central-directory record.
    expect(bytes.subarray(0, 4).toString('hex')).toBe('504b0506');
  });
});
