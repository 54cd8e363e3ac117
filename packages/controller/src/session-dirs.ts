import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The entries a running Chromium keeps in its profile to claim it (symlinks naming its host and pid): stale once it
 * has exited, and a reason for the next start on that profile to refuse it.
 */
export const PROFILE_LOCK_NAMES = ['SingletonLock', 'SingletonSocket', 'SingletonCookie'] as const;

/** Where a session's files live. */
export interface SessionDirs {
  /** `<dataDir>/sessions/<id>`: everything of the session's that is not a temp file. */
  root: string;
  /** The Chromium profile (`--user-data-dir`), inside `root`. */
  profile: string;
  /** What the browser downloads, inside `root`. */
  downloads: string;
  /** Files uploaded for the page's file inputs, inside `root`. */
  uploads: string;
  /** The session's TMPDIR. */
  tmp: string;
}

/**
 * Unix socket paths are limited to 108 bytes (104 on macOS), and Chromium puts its singleton socket at
 * `$TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket`. A temp dir nested in an arbitrary data dir would
 * overflow that, so temp dirs live directly under `/tmp`, named after the data dir (so each server finds its
 * own after a crash) and the session.
 */
function tmpRoot(): string {
  return process.platform !== 'win32' && existsSync('/tmp') ? '/tmp' : tmpdir();
}

/** A short tag that ties temp dirs to the data dir that owns them. */
function ownerTag(dataDir: string): string {
  return createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 8);
}

export function sessionDirs(dataDir: string, sessionId: string): SessionDirs {
  const root = join(resolve(dataDir), 'sessions', sessionId);
  return {
    root,
    profile: join(root, 'profile'),
    downloads: join(root, 'downloads'),
    uploads: join(root, 'uploads'),
    tmp: join(tmpRoot(), `wc-${ownerTag(dataDir)}-${sessionId}`),
  };
}

/**
 * Every directory sessions of `dataDir` may have left: session roots and temp dirs. Used to sweep orphans on
 * start, and by tests to prove nothing was left.
 */
export function listSessionDirs(dataDir: string): { sessionId: string; path: string }[] {
  const found: { sessionId: string; path: string }[] = [];
  const roots = join(resolve(dataDir), 'sessions');
  const prefix = `wc-${ownerTag(dataDir)}-`;
  try {
    for (const name of readdirSync(roots)) found.push({ sessionId: name, path: join(roots, name) });
  } catch {}
  try {
    for (const name of readdirSync(tmpRoot())) {
      if (name.startsWith(prefix)) found.push({ sessionId: name.slice(prefix.length), path: join(tmpRoot(), name) });
    }
  } catch {}
  return found;
}

/** Deletes directory trees (a session's, a pooled browser's), retrying while Chromium's last writes settle. */
export async function removeDirs(...dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })));
}

/** Deletes a session's directories: its root (profile, downloads, uploads) and its temp dir. */
export function removeSessionDirs(dirs: SessionDirs): Promise<void> {
  return removeDirs(dirs.root, dirs.tmp);
}

/** The lock entries a Chromium that died while starting may leave in its profile. */
export async function removeProfileLocks(profile: string): Promise<void> {
  await Promise.all(PROFILE_LOCK_NAMES.map((name) => rm(join(profile, name), { force: true })));
}
