import type { ChildProcess } from 'node:child_process';

/** A child's stderr, read for as long as the child lives (so the pipe never fills), with its last bytes kept. */
export interface StderrWatch {
  tail(): string;
  /** Resolves with the first capture group of `pattern` once stderr matches it; rejects on exit, error or timeout. */
  match(pattern: RegExp, timeoutMs: number, what: string): Promise<string>;
}

export function watchStderr(child: ChildProcess, tailBytes = 8192): StderrWatch {
  let tail = '';
  const waiters = new Set<() => void>();
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    tail = (tail + text).slice(-tailBytes);
    for (const check of waiters) check();
  });
  return {
    tail: () => tail,
    match(pattern, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const settle = (finish: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
          child.off('error', onError);
          finish();
        };
        const check = () => {
          const found = pattern.exec(tail)?.[1];
          if (found) settle(() => resolve(found));
        };
        const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
          settle(() => reject(new Error(`${what}: the process exited first (${signal ?? `code ${code}`}):\n${tail}`)));
        const onError = (error: Error) => settle(() => reject(error));
        const timer = setTimeout(
          () => settle(() => reject(new Error(`${what}: not within ${timeoutMs} ms:\n${tail}`))),
          timeoutMs,
        );
        waiters.add(check);
        child.once('exit', onExit);
        child.once('error', onError);
        check();
      });
    },
  };
}
