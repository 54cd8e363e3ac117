/**
 * Everything the bench starts registers how to undo it here, so that a failure or Ctrl-C still releases every
 * session, kills every process and deletes every directory. Tasks run newest first.
 */
import { progress, sleep } from './progress.js';

type Task = () => unknown;

const tasks = new Map<number, { name: string; run: Task }>();
let nextId = 0;
let draining: Promise<void> | undefined;
let aborted = false;

/** Registers a cleanup task; the returned function unregisters it once the thing is undone normally. */
export function onCleanup(name: string, run: Task): () => void {
  const id = nextId++;
  tasks.set(id, { name, run });
  return () => void tasks.delete(id);
}

/** True once a signal asked the bench to stop. */
export function isAborted(): boolean {
  return aborted;
}

/** Throws once a signal asked the bench to stop: called before starting anything new. */
export function throwIfAborted(): void {
  if (aborted) throw new Error('aborted by a signal');
}

const withTimeout = (p: Promise<unknown>, ms: number) =>
  Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))]);

/**
 * Runs every registered task once, newest first, until none is left (tasks registered meanwhile run too);
 * failures are logged and the rest still run.
 */
export function cleanupAll(): Promise<void> {
  draining ??= (async () => {
    while (tasks.size) {
      const pending = [...tasks.entries()].sort(([a], [b]) => b - a);
      tasks.clear();
      for (const [, { name, run }] of pending) {
        try {
          await withTimeout(Promise.resolve().then(run), 30_000);
        } catch (error) {
          progress('cleanup', `${name}: ${(error as Error).message}`);
        }
      }
    }
  })().finally(() => {
    draining = undefined;
  });
  return draining;
}

/** On SIGINT/SIGTERM/SIGHUP: clean up, then exit 130. A second signal exits at once. */
export function installSignalHandlers(): void {
  let caught = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (caught) process.exit(130);
      caught = true;
      aborted = true;
      progress('abort', `${signal}: cleaning up (send it again to exit at once)`);
      void (async () => {
        await cleanupAll();
        // Whatever was being started when the signal came registers its cleanup a moment later.
        await sleep(500);
        await cleanupAll();
        progress('abort', 'cleaned up');
        process.exit(130);
      })();
    });
  }
}
