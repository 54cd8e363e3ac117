import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidBlobKeyError } from '../../src/domain/errors.js';
import type { BlobStore } from '../../src/ports/blob-store.js';

export interface BlobStoreFixture {
  store: BlobStore;
  dispose(): Promise<void>;
}

function bodyOf(blob: { body: Readable } | undefined): Readable {
  if (!blob) throw new Error('expected a blob, found none');
  return blob.body;
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** `size` bytes of a deterministic pattern, produced a chunk at a time, never held whole. */
async function* pattern(size: number, chunk = 256 * 1024): AsyncGenerator<Buffer> {
  for (let sent = 0, n = 0; sent < size; n++) {
    const length = Math.min(chunk, size - sent);
    yield Buffer.alloc(length, n % 251);
    sent += length;
  }
}

// A full collection before each sample, so what is measured is the memory still held, not garbage awaiting GC.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs `work` while sampling how far live external memory (Buffers) rises above where it started. */
async function peakBufferGrowth<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  gc();
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const sample = () => {
    gc();
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
  };
  // Each sample is a full GC: often enough to see a whole blob held (that would last the whole transfer), rare
  // enough that the GCs do not make the transfer crawl on a busy machine (every 20 ms took it past a minute).
  const timer = setInterval(sample, 100);
  try {
    const result = await work();
    sample();
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

/** The behaviour every `BlobStore` must have. Run it once per adapter. */
export function describeBlobStoreContract(name: string, makeFixture: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;
    beforeEach(async () => {
      fixture = await makeFixture();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('puts, heads, gets as a stream, overwrites and deletes', async () => {
      const info = await store.put('contexts/c1/profile.tar.gz', 'first');
      expect(info).toMatchObject({ key: 'contexts/c1/profile.tar.gz', size: 5 });
      expect(info.lastModified).toBeInstanceOf(Date);
      expect(await store.head('contexts/c1/profile.tar.gz')).toMatchObject({ size: 5 });
      await store.put('contexts/c1/profile.tar.gz', new Uint8Array([1, 2, 3]));
      const blob = await store.get('contexts/c1/profile.tar.gz');
      expect(blob?.size).toBe(3);
      const chunks: Buffer[] = [];
      for await (const c of bodyOf(blob)) chunks.push(Buffer.from(c));
      expect([...Buffer.concat(chunks)]).toEqual([1, 2, 3]);
      await store.delete('contexts/c1/profile.tar.gz');
      expect(await store.head('contexts/c1/profile.tar.gz')).toBeUndefined();
      expect(await store.get('contexts/c1/profile.tar.gz')).toBeUndefined();
    });

    it('treats a missing key as absent, and deleting it as done', async () => {
      expect(await store.get('nothing/here')).toBeUndefined();
      expect(await store.head('nothing/here')).toBeUndefined();
      await store.delete('nothing/here');
      expect(await store.list('nothing/')).toEqual([]);
    });

    it('lists by prefix, in key order, with sizes', async () => {
      await store.put('sessions/s2/logs.json', '22');
      await store.put('sessions/s1/downloads/b.txt', 'bb');
      await store.put('sessions/s1/downloads/a.txt', 'a');
      await store.put('sessions/s10/logs.json', '1010');
      await store.put('extensions/e1.zip', 'zip');
      const keys = async (prefix: string) => (await store.list(prefix)).map((b) => `${b.key}:${b.size}`);
      expect(await keys('sessions/s1/')).toEqual(['sessions/s1/downloads/a.txt:1', 'sessions/s1/downloads/b.txt:2']);
      expect(await keys('sessions/s1')).toEqual([
        'sessions/s1/downloads/a.txt:1',
        'sessions/s1/downloads/b.txt:2',
        'sessions/s10/logs.json:4',
      ]);
      expect(await keys('')).toHaveLength(5);
      expect(await keys('ext')).toEqual(['extensions/e1.zip:3']);
      expect(await keys('sessions/s3/')).toEqual([]);
    });

    it('refuses keys that could escape the store, leaving nothing behind', async () => {
      for (const key of ['', '../x', 'a/../../x', '/abs', 'a//b', 'a/./b', '.hidden', 'a\\b', 'a/b/', 'sp ace']) {
        await expect(store.put(key, 'x'), key).rejects.toBeInstanceOf(InvalidBlobKeyError);
        await expect(store.get(key), key).rejects.toBeInstanceOf(InvalidBlobKeyError);
        await expect(store.delete(key), key).rejects.toBeInstanceOf(InvalidBlobKeyError);
      }
      await expect(store.list('../')).rejects.toBeInstanceOf(InvalidBlobKeyError);
      expect(await store.list('')).toEqual([]);
    });

    it('streams a large object in and out without buffering it whole', async () => {
      const size = 96 * 1024 * 1024;
      const expected = createHash('sha256');
      for await (const c of pattern(size)) expected.update(c);
      const { peak: putPeak } = await peakBufferGrowth(() => store.put('big/object.bin', pattern(size)));
      expect((await store.head('big/object.bin'))?.size).toBe(size);
      const { result: digest, peak: getPeak } = await peakBufferGrowth(async () => {
        const blob = await store.get('big/object.bin');
        const hash = createHash('sha256');
        for await (const c of bodyOf(blob)) hash.update(c);
        return hash.digest('hex');
      });
      expect(digest).toBe(expected.digest('hex'));
      // Holding the blob whole would cost its full size; streaming costs a few chunks or multipart parts (about
      // 30 MiB for S3 at 5 MiB parts).
      expect(putPeak).toBeLessThan(size / 2);
      expect(getPeak).toBeLessThan(size / 2);
    }, 120_000);

    it('a failed streamed write leaves the previous blob as it was', async () => {
      await store.put('contexts/c2/profile.tar.gz', 'intact');
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(1024, 1);
        throw new Error('the source broke');
      }
      await expect(store.put('contexts/c2/profile.tar.gz', failing())).rejects.toThrow(/the source broke/);
      const blob = await store.get('contexts/c2/profile.tar.gz');
      expect(await text(bodyOf(blob))).toBe('intact');
    });
  });
}
