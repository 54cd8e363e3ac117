/**
 * Helpers shared by the test suites: bounded waiting, a local page to browse, and the leak check every browser
 * test ends with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProcesses, listSessionDirs } from '@wallcrawler/controller';

/** Polls `predicate` until it returns a truthy value, or throws after `timeout` ms. Never a fixed sleep. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  {
    timeout = 15_000,
    interval = 25,
    message = 'condition',
  }: { timeout?: number; interval?: number; message?: string } = {},
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeout} ms waiting for ${message}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

export interface PageServer {
  /** `http://127.0.0.1:port` */
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback HTTP server with a few pages: `/` (title "Wallcrawler test page"), `/title/<text>` (that title),
 * and `/slow` (answers after 10 s).
 */
export async function startPageServer(): Promise<PageServer> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    const title = url.pathname.startsWith('/title/')
      ? decodeURIComponent(url.pathname.slice(7))
      : 'Wallcrawler test page';
    const html = `<!doctype html><html><head><title>${title}</title></head><body><h1 id="greeting">Hello from ${title}</h1><ul>${'<li>item</li>'.repeat(50)}</ul></body></html>`;
    const send = () => response.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(html);
    if (url.pathname === '/slow') setTimeout(send, 10_000).unref();
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fresh temporary directory, and a function that removes it. */
export function tempDir(prefix = 'wallcrawler-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true, maxRetries: 5 }) };
}

/** Every process (zombies included) whose command line mentions `dataDir`: Chromium, its helpers, its reaper. */
export function processesUnder(dataDir: string) {
  return findProcesses(dataDir);
}

/** The browsers running for `dataDir`: the distinct session directories that a live (not zombie) process names. */
export function liveBrowsers(dataDir: string): Set<string> {
  const names = processesUnder(dataDir)
    .filter((p) => p.state !== 'Z')
    .map((p) => /\/sessions\/([^/\s]+)\//.exec(p.cmdline)?.[1]);
  return new Set(names.filter((n): n is string => n !== undefined));
}

/**
 * Whether only a warm pool's `idle` browsers are left under `dataDir`: every session directory is a pool's, and
 * every live browser runs in one of them.
 */
export function onlyPoolBrowsersLeft(dataDir: string, idle: number): boolean {
  const dirs = listSessionDirs(dataDir).filter((d) => d.path.includes('/sessions/'));
  const names = new Set(dirs.map((d) => d.sessionId));
  const browsers = liveBrowsers(dataDir);
  return (
    dirs.length === idle &&
    dirs.every((d) => d.sessionId.startsWith('pool-')) &&
    browsers.size === idle &&
    [...browsers].every((b) => names.has(b))
  );
}

/**
 * The leak check: no process started for a session under `dataDir` is left, and no session directory remains.
 * Waits briefly for teardown in flight, then throws listing what leaked.
 */
export async function expectNothingLeft(dataDir: string, { timeout = 10_000 } = {}): Promise<void> {
  const leftovers = () => ({ processes: processesUnder(dataDir), dirs: listSessionDirs(dataDir).map((d) => d.path) });
  try {
    await waitFor(
      () => {
        const { processes, dirs } = leftovers();
        return processes.length === 0 && dirs.length === 0;
      },
      { timeout, message: 'session processes and directories to be gone' },
    );
  } catch {
    const { processes, dirs } = leftovers();
    throw new Error(
      `Leaked after the test:\n${processes.map((p) => `  pid ${p.pid} [${p.state}] ${p.comm}`).join('\n')}\n${dirs.map((d) => `  dir ${d}`).join('\n')}`,
    );
  }
}

/** A TCP port free on 127.0.0.1 just now (for a process that must be told its port before it starts). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
