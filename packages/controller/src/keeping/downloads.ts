import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type BlobStore, type DownloadFailure, downloadErrorsKey, downloadFileKey } from '@wallcrawler/contracts';

/** Chromium's name for a download in progress. */
const inProgress = (name: string) => name.endsWith('.crdownload');

/** The regular files directly in `dir` that Chromium has finished writing, in name order. */
export async function finishedDownloads(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const name of names.sort()) {
    if (inProgress(name)) continue;
    if ((await stat(join(dir, name)).catch(() => undefined))?.isFile()) files.push(name);
  }
  return files;
}

/**
 * Keeps a session's finished downloads (and the list of cancelled ones) in the blob store, under the keys
 * `@wallcrawler/contracts` names, once its browser is gone.
 * @returns how many files were kept
 */
export async function keepDownloads(
  blobs: BlobStore,
  sessionId: string,
  dir: string,
  failures: readonly DownloadFailure[],
): Promise<number> {
  let kept = 0;
  for (const name of await finishedDownloads(dir)) {
    await blobs.put(downloadFileKey(sessionId, name), createReadStream(join(dir, name)));
    kept++;
  }
  if (failures.length > 0) await blobs.put(downloadErrorsKey(sessionId), JSON.stringify(failures, null, 2));
  return kept;
}
