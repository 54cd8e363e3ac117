import { utimesSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConflictError, NotFoundError, Wallcrawler } from '@wallcrawler/sdk';
import { generateApiKey, newProject } from '@wallcrawler/server';
import { expectNothingLeft, tempDir, waitFor } from '@wallcrawler/test-support';
import { startTestServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { DiskBlobStore } from '../../src/adapters/disk/disk-blob-store.js';
import { ArtifactRetention } from '../../src/services/artifact-retention.js';

/** A site with downloads (a small file, a 3 MiB one sent slowly) and a file input. */
let site: Server;
let siteUrl: string;
const BIG = 3 * 1024 * 1024;
const t = useTestServer({ WALLCRAWLER_SESSION_DOWNLOADS_MAX_MB: '1' });

beforeAll(async () => {
  site = createServer((request, response) => {
    if (request.url === '/hello.txt') {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-disposition': 'attachment; filename="hello.txt"',
      });
      response.end('hello from a download');
    } else if (request.url === '/big.bin') {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-disposition': 'attachment; filename="big.bin"',
        'content-length': String(BIG),
      });
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= BIG || response.destroyed) {
          clearInterval(timer);
          response.end();
          return;
        }
        response.write(Buffer.alloc(256 * 1024, 1));
        sent += 256 * 1024;
      }, 20);
    } else {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(
        '<!doctype html><a id="small" href="/hello.txt">small</a><a id="big" href="/big.bin">big</a><input type="file" id="file">',
      );
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});
afterAll(async () => {
  site.closeAllConnections();
  await new Promise((resolve) => site.close(resolve));
});

/** The entries of a zip: name → content. */
async function unzip(bytes: Buffer): Promise<Map<string, string>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, z) => (error || !z ? reject(error) : resolve(z))),
  );
  const entries = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream) return reject(error);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          entries.set(entry.fileName, Buffer.concat(chunks).toString());
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return entries;
}

async function downloadsOf(api: Wallcrawler, id: string): Promise<Map<string, string>> {
  const response = await api.sessions.downloads.list(id);
  expect(response.headers.get('content-type')).toBe('application/zip');
  return unzip(Buffer.from(await response.arrayBuffer()));
}

async function openSite(connectUrl: string): Promise<{ browser: Browser; page: import('puppeteer-core').Page }> {
  const browser = await puppeteer.connect({ browserWSEndpoint: connectUrl, defaultViewport: null });
  const [page] = await browser.pages();
  if (!page) throw new Error('no page');
  await page.goto(siteUrl);
  return { browser, page };
}

describe('downloads', () => {
  it('collects what the browser downloads into the session, served as a zip while it runs and after it ended', async () => {
    const session = await t.client.sessions.create();
    // No downloads yet: a valid, empty zip.
    expect((await downloadsOf(t.client, session.id)).size).toBe(0);
    const { browser, page } = await openSite(session.connectUrl);
    await page.click('#small');
    const live = await waitFor(async () => {
      const entries = await downloadsOf(t.client, session.id);
      return entries.has('hello.txt') && entries;
    });
    expect(live.get('hello.txt')).toBe('hello from a download');
    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });

    // Kept after the session, from the blob store.
    const kept = await downloadsOf(t.client, session.id);
    expect([...kept.keys()]).toEqual(['hello.txt']);
    expect(kept.get('hello.txt')).toBe('hello from a download');
    await expectNothingLeft(t.dataDir);
  });

  it('cancels a download past the session limit, says why, and the session keeps running', async () => {
    const session = await t.client.sessions.create();
    const { browser, page } = await openSite(session.connectUrl);
    await page.click('#big');
    const entries = await waitFor(async () => {
      const e = await downloadsOf(t.client, session.id);
      return e.has('wallcrawler-download-errors.json') && e;
    });
    const [failure] = JSON.parse(entries.get('wallcrawler-download-errors.json') ?? '[]') as {
      fileName: string;
      reason: string;
    }[];
    expect(failure).toMatchObject({ fileName: 'big.bin', reason: expect.stringMatching(/limit of 1 MiB/) });
    expect(entries.has('big.bin')).toBe(false);
    // The session runs on, and a small download still works.
    expect((await t.client.sessions.retrieve(session.id)).status).toBe('RUNNING');
    await page.click('#small');
    await waitFor(async () => (await downloadsOf(t.client, session.id)).has('hello.txt'));
    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    expect([...(await downloadsOf(t.client, session.id)).keys()].sort()).toEqual([
      'hello.txt',
      'wallcrawler-download-errors.json',
    ]);
  });

  it('answers 404 for another project’s session', async () => {
    const session = await t.client.sessions.create();
    const other = newProject('other-downloads');
    await t.store.createProject(other);
    const { key, record } = generateApiKey('other', [other.id]);
    await t.store.createApiKey(record);
    const otherClient = new Wallcrawler({ apiKey: key, baseURL: t.url, maxRetries: 0 });
    await expect(otherClient.sessions.downloads.list(session.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      otherClient.sessions.uploads.create(session.id, { file: Buffer.from('x'), fileName: 'x.txt' }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });
});

describe('artifact retention', () => {
  it('deletes artifacts past the age limit, then the oldest past the size limit', async () => {
    const dir = tempDir('wallcrawler-retention-');
    try {
      const blobs = await DiskBlobStore.open(dir.path);
      const retention = new ArtifactRetention(blobs, { maxAgeMs: 3_600_000, maxBytes: 2_500 });
      const now = Date.now();
      const put = async (session: string, name: string, ageMs: number) => {
        const key = `downloads/${session}/f${Buffer.from(name).toString('base64url')}`;
        await blobs.put(key, Buffer.alloc(1_000));
        const at = new Date(now - ageMs);
        utimesSync(join(dir.path, 'objects', key), at, at);
      };
      await put('s1', 'ancient.bin', 2 * 3_600_000);
      await put('s2', 'old.bin', 30 * 60_000);
      await put('s3', 'newer.bin', 20 * 60_000);
      await put('s4', 'newest.bin', 10 * 60_000);
      await blobs.put('contexts/c1/profile.tar.gz.enc', Buffer.alloc(5_000));
      expect(await retention.sweep(now)).toEqual({ deleted: 2 });
      expect((await blobs.list('downloads/')).map((b) => b.key.split('/')[1])).toEqual(['s3', 's4']);
      // Contexts are the user's: never swept, and not counted.
      expect(await blobs.head('contexts/c1/profile.tar.gz.enc')).toBeDefined();
    } finally {
      dir.remove();
    }
  });
});

describe('uploads', () => {
  it('stores a file where the browser reads it, for a file input', async () => {
    const session = await t.client.sessions.create();
    const { browser, page } = await openSite(session.connectUrl);
    try {
      const uploaded = await t.client.sessions.uploads.create(session.id, {
        file: Buffer.from('uploaded through Wallcrawler'),
        fileName: '../../notes.txt',
      });
      expect(uploaded.path.endsWith('/uploads/notes.txt')).toBe(true);
      expect(uploaded.path.startsWith(join(t.dataDir, 'sessions', session.id))).toBe(true);
      const cdp = await page.createCDPSession();
      const { root } = await cdp.send('DOM.getDocument');
      const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '#file' });
      await cdp.send('DOM.setFileInputFiles', { files: [uploaded.path], nodeId });
      const read = await page.evaluate(async () => {
        const input = document.querySelector<HTMLInputElement>('#file');
        const file = input?.files?.[0];
        return file ? { name: file.name, text: await file.text() } : undefined;
      });
      expect(read).toEqual({ name: 'notes.txt', text: 'uploaded through Wallcrawler' });
    } finally {
      await browser.disconnect();
      await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    }
    await expectNothingLeft(t.dataDir);
  });

  it('refuses an empty file, an ended session, an unknown one, a non-multipart body and a file over the limit', async () => {
    const session = await t.client.sessions.create();
    await expect(
      t.client.sessions.uploads.create(session.id, { file: Buffer.alloc(0), fileName: 'empty.txt' }),
    ).rejects.toMatchObject({
      status: 400,
      error: { code: 'invalid_upload', message: expect.stringMatching(/empty/) },
    });
    const raw = await fetch(`${t.url}/v1/sessions/${session.id}/uploads`, {
      method: 'POST',
      headers: { 'x-wc-api-key': t.apiKey, 'content-type': 'text/plain' },
      body: 'not a form',
    });
    expect(raw.status).toBe(415);
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    await expect(
      t.client.sessions.uploads.create(session.id, { file: Buffer.from('late'), fileName: 'late.txt' }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      t.client.sessions.uploads.create('no-such-session', { file: Buffer.from('x'), fileName: 'x.txt' }),
    ).rejects.toBeInstanceOf(NotFoundError);

    const small = await startTestServer({ WALLCRAWLER_UPLOAD_MAX_MB: '1' });
    try {
      const smallClient = new Wallcrawler({ apiKey: small.apiKey, baseURL: small.url, maxRetries: 0 });
      const running = await smallClient.sessions.create();
      await expect(
        smallClient.sessions.uploads.create(running.id, { file: Buffer.alloc(2 * 1024 * 1024), fileName: 'big.bin' }),
      ).rejects.toMatchObject({ status: 413 });
      expect((await smallClient.sessions.retrieve(running.id)).status).toBe('RUNNING');
      await smallClient.sessions.update(running.id, { status: 'REQUEST_RELEASE' });
    } finally {
      await small.close();
    }
  });
});
