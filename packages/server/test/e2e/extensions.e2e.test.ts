import { createReadStream, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { NotFoundError, Wallcrawler } from '@wallcrawler/sdk';
import { generateApiKey, newProject } from '@wallcrawler/server';
import { expectNothingLeft, tempDir } from '@wallcrawler/test-support';
import { startTestServer, usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';

const pages = usePageServer();
const t = useTestServer();
const scratch = tempDir('wallcrawler-ext-');
afterAll(() => scratch.remove());

type ZipEntry = { name: string; data: Buffer | string; mode?: number; compressionLevel?: number };

async function zip(entries: ZipEntry[]): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const e of entries) {
    z.addBuffer(Buffer.from(e.data), e.name, {
      ...(e.mode ? { mode: e.mode } : {}),
      ...(e.compressionLevel !== undefined ? { compressionLevel: e.compressionLevel } : {}),
    });
  }
  z.end();
  return buffer(z.outputStream);
}

const manifest = JSON.stringify({
  manifest_version: 3,
  name: 'Wallcrawler test extension',
  version: '1.0',
  content_scripts: [{ matches: ['<all_urls>'], js: ['content.js'], run_at: 'document_start' }],
});
const content = 'document.documentElement.dataset.wcExtension = "loaded";';
const goodZip = () =>
  zip([
    { name: 'manifest.json', data: manifest },
    { name: 'content.js', data: content },
  ]);

/** A raw multipart upload, to send what the SDK would never send. */
function upload(body: BodyInit, headers: Record<string, string> = {}) {
  return fetch(`${t.url}/v1/extensions`, { method: 'POST', headers: { 'x-wc-api-key': t.apiKey, ...headers }, body });
}
function form(bytes: Buffer, name = 'extension.zip') {
  const f = new FormData();
  f.append('file', new Blob([new Uint8Array(bytes)]), name);
  return f;
}
const storedZips = () => {
  try {
    return readdirSync(join(t.dataDir, 'blobs', 'objects', 'extensions')).length;
  } catch {
    return 0;
  }
};

describe('extensions', () => {
  it('uploads a zip, loads it into a session (top level or in browserSettings), lists it over CDP, and deletes it', async () => {
    const path = join(scratch.path, 'my-extension.zip');
    writeFileSync(path, await goodZip());
    const extension = await t.client.extensions.create({ file: createReadStream(path) });
    expect(extension).toMatchObject({ fileName: 'my-extension.zip', projectId: t.projectId });
    expect(await t.client.extensions.retrieve(extension.id)).toEqual(extension);
    // The same zip again is another extension.
    const again = await t.client.extensions.create({ file: await goodZip(), fileName: 'again.zip' });
    expect(again.id).not.toBe(extension.id);

    for (const params of [{ extensionId: extension.id }, { browserSettings: { extensionId: again.id } }]) {
      const session = await t.client.sessions.create(params);
      const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
      try {
        const cdp = await browser.target().createCDPSession();
        const { extensions } = (await cdp.send('Extensions.getExtensions' as never)) as {
          extensions: { name: string; enabled: boolean }[];
        };
        expect(extensions).toEqual([expect.objectContaining({ name: 'Wallcrawler test extension', enabled: true })]);
        const [page] = await browser.pages();
        await page?.goto(pages.url);
        expect(await page?.evaluate(() => document.documentElement.dataset.wcExtension)).toBe('loaded');
      } finally {
        await browser.disconnect();
        await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
      }
    }

    await t.client.extensions.delete(extension.id);
    await t.client.extensions.delete(again.id);
    await expect(t.client.extensions.retrieve(extension.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(storedZips()).toBe(0);
    await expectNothingLeft(t.dataDir);
  });

  it('refuses sessions with an unknown extension, or another project’s, starting nothing', async () => {
    const extension = await t.client.extensions.create({ file: await goodZip() });
    const other = newProject('other');
    await t.store.createProject(other);
    const { key, record } = generateApiKey('other', [other.id]);
    await t.store.createApiKey(record);
    const otherClient = new Wallcrawler({ apiKey: key, baseURL: t.url, maxRetries: 0 });
    await expect(otherClient.extensions.retrieve(extension.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(otherClient.extensions.delete(extension.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(otherClient.sessions.create({ extensionId: extension.id })).rejects.toMatchObject({
      status: 404,
      error: { code: 'extension_not_found' },
    });
    await expect(t.client.sessions.create({ extensionId: 'no-such-extension' })).rejects.toMatchObject({ status: 404 });
    expect(await t.client.sessions.list({ status: 'RUNNING' })).toEqual([]);
    await t.client.extensions.delete(extension.id);
  });

  it('refuses bad uploads with a 4xx that says why, and stores nothing', async () => {
    const before = storedZips();
    const bomb = await zip([
      { name: 'manifest.json', data: manifest },
      { name: 'zeros.bin', data: Buffer.alloc(300 * 1024 * 1024), compressionLevel: 1 },
    ]);
    const withLink = await zip([
      { name: 'manifest.json', data: manifest },
      { name: 'link', data: '/etc/passwd', mode: 0o120777 },
    ]);
    // yazl refuses to write `..`: write `xx/` and patch it, in both the local and the central header.
    const escaping = Buffer.from(
      (
        await zip([
          { name: 'manifest.json', data: manifest },
          { name: 'xx/evil.txt', data: 'x' },
        ])
      )
        .toString('latin1')
        .replaceAll('xx/evil.txt', '../evil.tx'.padEnd(11, 't')),
      'latin1',
    );
    const cases: [string, Response, number, RegExp][] = [
      ['an empty file', await upload(form(Buffer.alloc(0))), 400, /empty/],
      ['not a zip', await upload(form(Buffer.from('plain text, not a zip'))), 400, /not a valid zip/],
      ['no manifest', await upload(form(await zip([{ name: 'content.js', data: content }]))), 400, /no manifest\.json/],
      [
        'a nested manifest',
        await upload(form(await zip([{ name: 'ext/manifest.json', data: manifest }]))),
        400,
        /at the zip's root, not at ext\/manifest\.json/,
      ],
      [
        'a bad manifest',
        await upload(form(await zip([{ name: 'manifest.json', data: '{nope' }]))),
        400,
        /not valid JSON/,
      ],
      ['a zip bomb', await upload(form(bomb)), 413, /unpacks to more than 256 MiB/],
      ['a symlink', await upload(form(withLink)), 400, /symbolic link/],
      ['a path out of the zip', await upload(form(escaping)), 400, /\.\.\/evil/],
      ['no file part', await upload(new FormData()), 400, /body\.file|form\.file|file/],
      [
        'not multipart',
        await upload(new Uint8Array(await goodZip()), { 'content-type': 'application/zip' }),
        415,
        /multipart\/form-data/,
      ],
    ];
    for (const [what, response, status, message] of cases) {
      const body = (await response.json()) as { statusCode: number; code: string; message: string; requestId: string };
      expect({ what, status: response.status }).toEqual({ what, status });
      expect(body.statusCode).toBe(status);
      expect(body.message, what).toMatch(message);
      expect(body.requestId).toBeTruthy();
    }
    expect(storedZips()).toBe(before);
  });

  it('refuses an upload over WALLCRAWLER_UPLOAD_MAX_MB with a 413', async () => {
    const small = await startTestServer({ WALLCRAWLER_UPLOAD_MAX_MB: '1' });
    try {
      const f = new FormData();
      f.append('file', new Blob([new Uint8Array(2 * 1024 * 1024)]), 'big.zip');
      const response = await fetch(`${small.url}/v1/extensions`, {
        method: 'POST',
        headers: { 'x-wc-api-key': small.apiKey },
        body: f,
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({
        code: 'payload_too_large',
        message: expect.stringMatching(/1 MiB/),
      });
    } finally {
      await small.close();
    }
  });
});
