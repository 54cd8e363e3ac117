/// <reference lib="dom" />

import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Browserbase from '@browserbasehq/sdk';
import { ConflictError, NotFoundError } from '@browserbasehq/sdk';
import { tempDir } from '@wallcrawler/test-support';
import { usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { browserbaseProject, expectShape } from '../support/browserbase.js';

/**
 * The official `@browserbasehq/sdk` against a real server and real Chromium: contexts (a persisted one carries a
 * cookie to the next session) and extensions (a session loads one).
 */

const pages = usePageServer();
const t = useTestServer();

describe('@browserbasehq/sdk: contexts and extensions', () => {
  let client: Browserbase;
  let projectId: string;
  const scratch = tempDir('wallcrawler-compat-');
  afterAll(() => scratch.remove());

  beforeAll(async () => {
    const created = await browserbaseProject(t, 'compat-artifacts', 5);
    projectId = created.project.id;
    client = created.client;
  });

  it('creates, retrieves, updates and deletes contexts, and a persisted one carries a cookie to the next session', async () => {
    const created = await client.contexts.create({ projectId });
    expectShape(
      created,
      {
        id: 'string',
        cipherAlgorithm: 'string',
        initializationVectorSize: 'integer',
        publicKey: 'string',
        uploadUrl: 'string',
      },
      {},
      'ContextCreateResponse',
    );
    expectShape(
      await client.contexts.retrieve(created.id),
      { id: 'string', createdAt: 'date', updatedAt: 'date', projectId: 'string' },
      { name: 'string' },
      'Context',
    );
    expect((await client.contexts.update(created.id)).id).toBe(created.id);

    const first = await client.sessions.create({ browserSettings: { context: { id: created.id, persist: true } } });
    expect(first.contextId).toBe(created.id);
    const again = await client.sessions
      .create({ browserSettings: { context: { id: created.id, persist: true } } }, { maxRetries: 0 })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConflictError);
    const b1 = await puppeteer.connect({ browserWSEndpoint: first.connectUrl, defaultViewport: null });
    const [p1] = await b1.pages();
    await p1?.goto(pages.url);
    await p1?.evaluate(() => {
      // biome-ignore lint/suspicious/noDocumentCookie: the page's own cookie is what a context must keep
      document.cookie = 'compat=kept; max-age=3600; path=/';
    });
    await b1.disconnect();
    await client.sessions.update(first.id, { status: 'REQUEST_RELEASE' });

    const second = await client.sessions.create({ browserSettings: { context: { id: created.id } } });
    const b2 = await puppeteer.connect({ browserWSEndpoint: second.connectUrl, defaultViewport: null });
    const [p2] = await b2.pages();
    await p2?.goto(pages.url);
    expect(await p2?.evaluate(() => document.cookie)).toBe('compat=kept');
    await b2.disconnect();
    await client.sessions.update(second.id, { status: 'REQUEST_RELEASE' });

    await client.contexts.delete(created.id);
    await expect(client.contexts.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('uploads, retrieves and deletes an extension, and a session loads it', async () => {
    const zip = new yazl.ZipFile();
    zip.addBuffer(
      Buffer.from(JSON.stringify({ manifest_version: 3, name: 'compat', version: '1.0' })),
      'manifest.json',
    );
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    const path = join(scratch.path, 'compat-extension.zip');
    writeFileSync(path, Buffer.concat(chunks));

    const extension = await client.extensions.create({ file: createReadStream(path) });
    expectShape(
      extension,
      { id: 'string', createdAt: 'date', updatedAt: 'date', fileName: 'string', projectId: 'string' },
      {},
      'Extension',
    );
    expect(extension.fileName).toBe('compat-extension.zip');
    expect(await client.extensions.retrieve(extension.id)).toEqual(extension);
    const session = await client.sessions.create({ extensionId: extension.id });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const cdp = await browser.target().createCDPSession();
    const listed = (await cdp.send('Extensions.getExtensions' as never)) as { extensions: { name: string }[] };
    expect(listed.extensions.map((e) => e.name)).toEqual(['compat']);
    await browser.disconnect();
    await client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    await client.extensions.delete(extension.id);
    await expect(client.extensions.retrieve(extension.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});
