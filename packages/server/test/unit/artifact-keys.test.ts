import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SESSION_ARTIFACT_PREFIXES } from '@wallcrawler/contracts';
import { tempDir } from '@wallcrawler/test-support';
import { afterAll, expect, it } from 'vitest';
import { DiskBlobStore } from '../../src/adapters/disk/disk-blob-store.js';
import { ArtifactRetention } from '../../src/services/artifact-retention.js';
import { DownloadService } from '../../src/services/download-service.js';
import { SessionArtifactService } from '../../src/services/session-artifact-service.js';

/**
 * What a session's close path keeps goes under `SESSION_ARTIFACT_PREFIXES`, the prefixes retention sweeps
 * locally and the CDK stack's lifecycle rules expire on S3 (its template test reads the same constant). Written
 * by the real services into a real blob store, and read back as the retention sees it.
 */
const dir = tempDir('wallcrawler-artifact-keys-');
afterAll(() => dir.remove());

it("keeps a session's downloads, CDP log and recording under the session-artifact prefixes, and sweeps them", async () => {
  const blobs = await DiskBlobStore.open(join(dir.path, 'blobs'));
  const retention = new ArtifactRetention(blobs, { maxAgeMs: 60_000, maxBytes: 1 << 30 });
  const downloads = new DownloadService({ blobs, retention });
  const artifacts = new SessionArtifactService({ blobs, retention });
  const sessionId = '0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3';
  const downloaded = join(dir.path, 'downloads');
  mkdirSync(downloaded);
  writeFileSync(join(downloaded, 'report (final).pdf'), 'pdf');
  await downloads.keep(sessionId, downloaded, [
    { fileName: 'big.iso', reason: 'too large', at: new Date(0).toISOString() },
  ]);
  await artifacts.keepLogs(sessionId, [{ method: 'Page.navigate', pageId: 0, sessionId, timestamp: 1 }]);
  await artifacts.keepRecording(sessionId, [{ type: 2, timestamp: 1, data: {}, pageId: '0' }]);

  const keys = (await blobs.list('')).map((b) => b.key);
  expect(keys).toHaveLength(4);
  for (const key of keys) {
    expect(
      SESSION_ARTIFACT_PREFIXES.some((prefix) => key.startsWith(prefix)),
      key,
    ).toBe(true);
  }
  // Every prefix is written to, so none of them is a name nothing uses.
  for (const prefix of SESSION_ARTIFACT_PREFIXES)
    expect(
      keys.some((key) => key.startsWith(prefix)),
      prefix,
    ).toBe(true);

  // Past the age limit, retention deletes every one of them.
  const aged = new ArtifactRetention(blobs, { maxAgeMs: -1, maxBytes: 1 << 30 });
  expect(await aged.sweep()).toMatchObject({ deleted: 4 });
  expect(await blobs.list('')).toEqual([]);
});
