import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectNothingLeft, tempDir } from '@wallcrawler/test-support';
import { afterAll, afterEach } from 'vitest';
import WebSocket from 'ws';
import { BrowserSession } from '../../src/browser-session.js';
import type { BrowserSessionOptions } from '../../src/browser-session-options.js';
import { findChromium } from '../../src/chromium/find-chromium.js';

/** A CDP client of a session, connected through the session's own proxy (so it counts as one of its clients). */
export interface TestClient {
  ws: WebSocket;
  /** Sends a command and resolves with its result; rejects with CDP's error. */
  send(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<Record<string, unknown>>;
  /** Resolves with the close frame the client got (or 1006 when the socket just dropped). */
  closed: Promise<{ code: number; reason: string }>;
}

/**
 * What every test file here needs: its own data dir, real Chromium sessions started in it, cleanups run after each
 * test (or, with `per: 'file'`, once after the file, for sessions its tests share), and then the leak check (no
 * process started for a session, no session directory, left).
 */
export function useSessions({ per = 'test' }: { per?: 'test' | 'file' } = {}) {
  const dataDir = tempDir();
  const cleanups: (() => unknown)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await expectNothingLeft(dataDir.path);
  };
  if (per === 'test') afterEach(cleanUp);
  afterAll(async () => {
    try {
      if (per === 'file') await cleanUp();
    } finally {
      dataDir.remove();
    }
  });

  /** A session as the local server starts one (a release answers once the ending is recorded). */
  async function start(options: Partial<BrowserSessionOptions> = {}): Promise<BrowserSession> {
    const session = await BrowserSession.start({
      id: randomUUID(),
      executablePath: findChromium(),
      dataDir: dataDir.path,
      expiresAt: new Date(Date.now() + 120_000),
      keepAlive: false,
      disconnectGraceMs: 100,
      recordFirst: true,
      ...options,
    });
    cleanups.push(() => session.close());
    return session;
  }

  /** A loopback server that hands every upgrade to the session, as the gateway does; its `ws://` base URL. */
  async function serve(session: BrowserSession): Promise<string> {
    const server: Server = createServer();
    server.on('upgrade', (request, socket, head) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      session.connect(request, socket, head, path);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** A client of `path` (the browser target by default) on the session, through {@link serve}. */
  async function connect(session: BrowserSession, path = session.browserPath): Promise<TestClient> {
    const client = await cdpClient(`${await serve(session)}${path}`);
    cleanups.push(() => client.ws.terminate());
    return client;
  }

  return { dataDir: dataDir.path, start, serve, connect, defer: (cleanup: () => unknown) => cleanups.push(cleanup) };
}

/** A CDP client over a WebSocket to `url`, open and answering. */
export async function cdpClient(url: string): Promise<TestClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as {
      id?: number;
      result?: Record<string, unknown>;
      error?: { message: string };
    };
    const waiting = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiting || message.id === undefined) return;
    pending.delete(message.id);
    if (message.error) waiting.reject(new Error(message.error.message));
    else waiting.resolve(message.result ?? {});
  });
  void closed.then(() => {
    for (const waiting of pending.values()) waiting.reject(new Error('the connection closed'));
    pending.clear();
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  // One answered command: the client is attached, both ways.
  await send('Browser.getVersion');
  return { ws, send, closed };
}
