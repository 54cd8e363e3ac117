import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One server per data dir: a second one would reap the first one's browsers as orphans. The lock is a pid
 * file; a stale one (its process is gone, as after kill -9) is taken over.
 * @returns a function that releases the lock.
 * @throws Error naming the other server's pid.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, 'server.pid');
  let holder: number | undefined;
  try {
    holder = Number(readFileSync(path, 'utf8').trim()) || undefined;
  } catch {}
  if (holder && holder !== process.pid && alive(holder)) {
    throw new Error(
      `Another Wallcrawler server (pid ${holder}) is using ${dataDir}. Stop it, or set WALLCRAWLER_DATA_DIR to another directory. If no such server runs, delete ${path}.`,
    );
  }
  writeFileSync(path, `${process.pid}\n`);
  return () => {
    try {
      if (Number(readFileSync(path, 'utf8').trim()) === process.pid) rmSync(path);
    } catch {}
  };
}
