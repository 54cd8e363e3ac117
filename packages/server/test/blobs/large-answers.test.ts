import { Readable } from 'node:stream';
import { largeAnswerKey } from '@wallcrawler/contracts';
import { S3BlobStore } from '@wallcrawler/controller/aws';
import { type LocalS3, startS3rver } from '@wallcrawler/test-support/s3rver';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3LargeAnswers } from '../../src/aws/s3/s3-large-answers.js';
import { answerOrRedirect } from '../../src/http/large-answer.js';

let s3: LocalS3;
let app: Hono;
/** The bytes the app answers with, set per test. */
let body: Buffer;

beforeAll(async () => {
  s3 = await startS3rver();
  const large = new S3LargeAnswers({
    blobs: new S3BlobStore({ client: s3.client, bucket: s3.bucket }),
    client: s3.client,
    bucket: s3.bucket,
    maxInlineBytes: 1024 * 1024,
  });
  app = new Hono();
  app.get('/zip', (c) =>
    // In chunks, as a zip stream comes: the limit is crossed in the middle of one.
    answerOrRedirect(c, Readable.from(chunks(body, 300 * 1024)), {
      contentType: 'application/zip',
      contentDisposition: 'attachment; filename="s-downloads.zip"',
      key: (tag) => largeAnswerKey('downloads', 'session-1', tag, 'zip'),
      large,
    }),
  );
});
afterAll(async () => {
  await s3?.stop();
});

function* chunks(bytes: Buffer, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31) % 251));

describe('answers too large for the front door', () => {
  it('are answered inline up to the limit, and nothing is stored', async () => {
    body = bytes(1024 * 1024);
    const response = await app.request('/zip');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="s-downloads.zip"');
    expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
    const listed = await new S3BlobStore({ client: s3.client, bucket: s3.bucket }).list('downloads/');
    expect(listed).toEqual([]);
  });

  it('are stored past it, beside the session’s artifacts, and redirected to a presigned URL that serves them whole', async () => {
    body = bytes(5 * 1024 * 1024 + 17);
    const response = await app.request('/zip');
    expect(response.status).toBe(307);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.pathname).toMatch(/^\/wallcrawler-test\/downloads\/session-1\.answer-[0-9a-f-]{36}\.zip$/);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('300');
    // The URL alone is the credential: no key, no SDK.
    const fetched = await fetch(location);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('application/zip');
    expect(Buffer.from(await fetched.arrayBuffer()).equals(body)).toBe(true);
  });
});
