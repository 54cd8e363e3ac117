/**
 * A task session's context, through the hooks its browser session runs (before Chromium starts, in the close
 * path), over the real S3 store against s3rver: filled, saved back sealed, and never written over by a save
 * that failed (size cap, S3 unreachable) or by a session the task did not serve.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { contextArchiveKey, silentLogger } from '@wallcrawler/contracts';
import { tempDir } from '@wallcrawler/test-support';
import { type LocalS3, startS3rver } from '@wallcrawler/test-support/s3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../src/aws/s3-blob-store.js';
import { createS3Client } from '../../src/aws/s3-client.js';
import { ProfileArchiveError } from '../../src/context/profile-archive.js';
import { type SessionDirs, sessionDirs } from '../../src/session-dirs.js';
import { keepingHooks, sessionNeedsOf, type TaskBlobs } from '../../src/task/session-keeping.js';

let s3: LocalS3;
let store: S3BlobStore;
const key = randomBytes(32);
const scratch = tempDir('wallcrawler-keeping-');

beforeAll(async () => {
  s3 = await startS3rver();
  store = new S3BlobStore({ client: s3.client, bucket: s3.bucket });
});
afterAll(async () => {
  await s3?.stop();
  scratch.remove();
});

const blobs = (overrides: Partial<TaskBlobs> = {}): TaskBlobs => ({
  store,
  contextKey: key,
  contextMaxBytes: 1024 * 1024,
  fileLimits: { downloadsMaxBytes: 1024 * 1024, logMaxBytes: 1024 * 1024, recordingMaxBytes: 1024 * 1024 },
  contexts: undefined,
  ...overrides,
});

function dirsFor(sessionId: string): SessionDirs {
  const dirs = sessionDirs(scratch.path, sessionId);
  mkdirSync(dirs.profile, { recursive: true });
  return dirs;
}

const ending = { status: 'COMPLETED' as const, reason: 'done' };
const artifacts = { downloadFailures: [], logs: undefined, recording: undefined };
const archive = async (contextId: string) => {
  const blob = await store.get(contextArchiveKey(contextId));
  return blob ? buffer(blob.body) : undefined;
};

describe('a task session with a context', () => {
  it("reads what it needs from the session's item", () => {
    expect(sessionNeedsOf({ contextId: 'c', contextPersist: true, extensionId: 'e' })).toEqual({
      context: { id: 'c', persist: true },
      extensionId: 'e',
    });
    expect(sessionNeedsOf({ contextId: 'c' })).toEqual({ context: { id: 'c', persist: false } });
    expect(sessionNeedsOf({ contextId: 7, extensionId: '' })).toEqual({});
  });

  it('fills the profile from the saved archive and saves it back after the session', async () => {
    const contextId = `ctx-${randomBytes(4).toString('hex')}`;
    const needs = { context: { id: contextId, persist: true } };
    const first = keepingHooks(needs, blobs(), { served: () => true, logger: silentLogger });
    expect(first.cleanShutdown).toBe(true);
    const one = dirsFor('s1');
    // A context never saved starts empty.
    await first.prepare?.(one);
    writeFileSync(join(one.profile, 'Cookies'), 'wc_cookie=kept');
    expect(await first.collect?.(one, ending, artifacts)).toBeUndefined();
    const sealed = await archive(contextId);
    expect(sealed?.subarray(0, 4).toString()).toBe('WCX1');
    expect(sealed?.includes('wc_cookie')).toBe(false);

    const reader = keepingHooks({ context: { id: contextId, persist: false } }, blobs(), {
      served: () => true,
      logger: silentLogger,
    });
    expect(reader.collect).toBeUndefined();
    const two = dirsFor('s2');
    await reader.prepare?.(two);
    expect(readFileSync(join(two.profile, 'Cookies'), 'utf8')).toBe('wc_cookie=kept');
  });

  it('keeps the previous archive when a save fails, and says why', async () => {
    const contextId = `ctx-${randomBytes(4).toString('hex')}`;
    const needs = { context: { id: contextId, persist: true } };
    const saved = dirsFor('s3');
    writeFileSync(join(saved.profile, 'Preferences'), '{}');
    await keepingHooks(needs, blobs(), { served: () => true, logger: silentLogger }).collect?.(
      saved,
      ending,
      artifacts,
    );
    const before = await archive(contextId);
    expect(before).toBeDefined();

    const big = dirsFor('s4');
    writeFileSync(join(big.profile, 'Blob'), randomBytes(2 * 1024 * 1024));
    const capped = keepingHooks(needs, blobs(), { served: () => true, logger: silentLogger });
    expect(await capped.collect?.(big, ending, artifacts)).toMatch(/not saved: .*size limit/);
    expect(await archive(contextId)).toEqual(before);

    // S3 unreachable: a closed port.
    const unreachable = new S3BlobStore({
      client: createS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }),
      bucket: s3.bucket,
    });
    const small = dirsFor('s5');
    writeFileSync(join(small.profile, 'Preferences'), '{"changed":true}');
    const cut = keepingHooks(needs, blobs({ store: unreachable }), { served: () => true, logger: silentLogger });
    expect(await cut.collect?.(small, ending, artifacts)).toMatch(/not saved: /);
    expect(await archive(contextId)).toEqual(before);
  });

  it('never saves for a session the task did not serve (its create gave up, its lock is gone)', async () => {
    const contextId = `ctx-${randomBytes(4).toString('hex')}`;
    const hooks = keepingHooks({ context: { id: contextId, persist: true } }, blobs(), {
      served: () => false,
      logger: silentLogger,
    });
    const dirs = dirsFor('s6');
    writeFileSync(join(dirs.profile, 'Cookies'), 'x');
    expect(await hooks.collect?.(dirs, ending, artifacts)).toBeUndefined();
    expect(await archive(contextId)).toBeUndefined();
  });

  it('refuses a corrupt archive before anything is extracted', async () => {
    const contextId = `ctx-${randomBytes(4).toString('hex')}`;
    await store.put(contextArchiveKey(contextId), 'WCX1 but nothing sealed in it, at all, not even a tag');
    const hooks = keepingHooks({ context: { id: contextId, persist: true } }, blobs(), {
      served: () => true,
      logger: silentLogger,
    });
    const dirs = dirsFor('s7');
    await expect(hooks.prepare?.(dirs)).rejects.toBeInstanceOf(ProfileArchiveError);
    expect(existsSync(join(dirs.profile, 'Default'))).toBe(false);
    // And without a key, a context session cannot start at all.
    const keyless = keepingHooks({ context: { id: contextId, persist: false } }, blobs({ contextKey: undefined }), {
      served: () => true,
      logger: silentLogger,
    });
    await expect(keyless.prepare?.(dirsFor('s8'))).rejects.toThrow(/no context key/);
  });
});
