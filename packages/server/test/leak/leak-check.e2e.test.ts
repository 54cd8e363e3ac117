import { randomBytes } from 'node:crypto';
import { getHeapCodeStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Wallcrawler } from '@wallcrawler/sdk';
import {
  expectNothingLeft,
  onlyPoolBrowsersLeft,
  type PageServer,
  startPageServer,
  tempDir,
  waitFor,
} from '@wallcrawler/test-support';
import pino from 'pino';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadServerConfig } from '../../src/config.js';
import { type LocalServer, startLocalServer } from '../../src/runtime/node.js';

/**
 * The leak check: many sessions through every way a session can end, with faults injected — Chromium killed
 * with SIGKILL, a client's socket dropped without a close frame, a release while the client connects, a create
 * its client abandoned, a client that closes the browser, a server restart — on a real server with a warm pool.
 * Afterwards nothing may be left: no process, no directory, no active session; the server's per-session maps
 * and caches back at their baseline; the heap's objects flat (within 10 % of their size after the warm-up, V8's
 * compiled code aside: see `heap()`); and no unhandled rejection. CI runs `WALLCRAWLER_LEAK_CYCLES` (default
 * 120); `npm run leakcheck` runs 1,000.
 */

const CYCLES = Number(process.env.WALLCRAWLER_LEAK_CYCLES ?? 120);
/** Cycles run this many at a time. */
const PARALLEL = 4;
/** The first cycles warm everything up (every fault once at least) before the baselines are read. */
const WARMUP = 24;
const FAULTS = [
  'plain',
  'kill-chromium',
  'drop-socket',
  'release-while-connecting',
  'abandoned-create',
  'keepalive-reconnect',
  'client-closes-browser',
  'new-page',
] as const;
type Fault = (typeof FAULTS)[number];

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dataDir = tempDir('wallcrawler-leak-');
const apiKey = `wc_test_${randomBytes(16).toString('hex')}`;
const env = {
  WALLCRAWLER_PORT: '0',
  WALLCRAWLER_DATA_DIR: dataDir.path,
  WALLCRAWLER_API_KEY: apiKey,
  WALLCRAWLER_LOG_LEVEL: 'silent',
  WALLCRAWLER_DISCONNECT_GRACE_MS: '200',
  WALLCRAWLER_POOL_SIZE: '2',
};
let server: LocalServer;
let client: Wallcrawler;
let pages: PageServer;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

/** `WALLCRAWLER_LEAK_LOG=<file>` writes the server's debug log there (to find what a failed run left). */
const logger = process.env.WALLCRAWLER_LEAK_LOG
  ? pino({ level: 'debug' }, pino.destination({ dest: process.env.WALLCRAWLER_LEAK_LOG, sync: true }))
  : undefined;

async function startServer(): Promise<void> {
  server = await startLocalServer(loadServerConfig(env), logger);
  client = new Wallcrawler({ apiKey, baseURL: server.url, maxRetries: 0 });
}

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  pages = await startPageServer();
  await startServer();
});
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await server?.close();
  await pages?.close();
  await expectNothingLeft(dataDir.path);
  dataDir.remove();
});

const ended = (id: string, status?: string) =>
  waitFor(
    async () => {
      const s = await client.sessions.retrieve(id);
      return s.status !== 'RUNNING' && s.status !== 'PENDING' && s.status;
    },
    { timeout: 20_000, message: `session ${id} to end` },
  ).then((final) => {
    if (status) expect(final, `session ${id}`).toBe(status);
  });

const connect = (connectUrl: string) =>
  puppeteer.connect({ browserWSEndpoint: connectUrl, defaultViewport: null, protocolTimeout: 20_000 });

async function browse(browser: Browser, i: number): Promise<void> {
  const page = (await browser.pages())[0] ?? (await browser.newPage());
  await page.goto(`${pages.url}/title/Cycle${i}`);
  expect(await page.title()).toBe(`Cycle${i}`);
}

async function cycle(i: number, fault: Fault): Promise<void> {
  if (fault === 'abandoned-create') {
    // The client gives up while the server starts the browser; whether or not the session came to be, the
    // server must not be left holding anything it cannot end.
    const tag = `abandoned-${i}`;
    await fetch(`${server.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-bb-api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ userMetadata: { tag } }),
      signal: AbortSignal.timeout(5 + (i % 40)),
    }).catch(() => {});
    // Its owner finds it later (the create carried a tag) and releases it, as a janitor would.
    await new Promise((r) => setTimeout(r, 1_000));
    const found = await client.sessions.list({ q: `user_metadata['tag']:'${tag}'` });
    for (const s of found) {
      await client.sessions.update(s.id, { status: 'REQUEST_RELEASE' });
      await ended(s.id, 'COMPLETED');
    }
    return;
  }
  const session = await client.sessions.create({
    ...(fault === 'keepalive-reconnect' ? { keepAlive: true } : {}),
    // One cycle in five wants another viewport: the pool's browsers make way for it, and back.
    ...(i % 5 === 4 ? { browserSettings: { viewport: { width: 800, height: 600 } } } : {}),
    userMetadata: { cycle: i },
  });
  switch (fault) {
    case 'plain':
    case 'new-page': {
      const browser = await connect(session.connectUrl);
      if (fault === 'new-page') {
        const page = await browser.newPage();
        await page.goto(`${pages.url}/title/Cycle${i}`);
        await page.close();
      }
      await browse(browser, i);
      await browser.disconnect();
      const released = await client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
      expect(released.status).toBe('COMPLETED');
      return;
    }
    case 'kill-chromium': {
      const browser = await connect(session.connectUrl);
      await browse(browser, i);
      const cdp = await browser.target().createCDPSession();
      const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
        processInfo: { type: string; id: number }[];
      };
      const pid = processInfo.find((p) => p.type === 'browser')?.id;
      expect(pid).toBeGreaterThan(0);
      process.kill(pid as number, 'SIGKILL');
      await ended(session.id, 'ERROR');
      await browser.disconnect().catch(() => {});
      return;
    }
    case 'drop-socket': {
      const ws = new WebSocket(session.connectUrl);
      ws.on('error', () => {});
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      // No close frame: the TCP connection just goes (a client process killed, a network cut).
      ws.terminate();
      await ended(session.id, 'COMPLETED');
      return;
    }
    case 'release-while-connecting': {
      const connecting = connect(session.connectUrl);
      const released = client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
      const [browser, release] = await Promise.allSettled([connecting, released]);
      expect(release.status).toBe('fulfilled');
      if (browser.status === 'fulfilled') await browser.value.disconnect().catch(() => {});
      await ended(session.id, 'COMPLETED');
      return;
    }
    case 'keepalive-reconnect': {
      const first = await connect(session.connectUrl);
      await browse(first, i);
      await first.disconnect();
      const again = await connect(session.connectUrl);
      await browse(again, i);
      await again.disconnect();
      await client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
      await ended(session.id, 'COMPLETED');
      return;
    }
    case 'client-closes-browser': {
      const browser = await connect(session.connectUrl);
      await browse(browser, i);
      await browser.close();
      await ended(session.id, 'COMPLETED');
      return;
    }
  }
}

/** Runs cycles [from, to) `PARALLEL` at a time, each with the fault its number picks. */
async function run(from: number, to: number): Promise<void> {
  let next = from;
  const errors: string[] = [];
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < to) {
        const i = next++;
        const fault = FAULTS[i % FAULTS.length] as Fault;
        try {
          await cycle(i, fault);
        } catch (error) {
          errors.push(`cycle ${i} (${fault}): ${(error as Error).message}`);
        }
      }
    }),
  );
  expect(errors).toEqual([]);
}

/** No session is active, only the pool's idle browsers run, and every count is back at `baseline`. */
async function settled(baseline?: Record<string, number>): Promise<Record<string, number>> {
  await waitFor(
    async () => (await client.sessions.list()).every((s) => s.status !== 'RUNNING' && s.status !== 'PENDING'),
    {
      timeout: 30_000,
      message: 'no running session',
    },
  );
  await waitFor(
    () => {
      const census = server.census();
      return (
        onlyPoolBrowsersLeft(dataDir.path, 2) &&
        census.poolStarting === 0 &&
        // Without a baseline yet: at least every close path has finished.
        census.gatewaySessions === 0 &&
        census.sessionsFinishing === 0 &&
        // A sweep of old artifacts holds a listing of every artifact on disk while it runs.
        census.artifactSweeps === 0 &&
        (!baseline || Object.entries(baseline).every(([name, n]) => census[name] === n))
      );
    },
    {
      timeout: 30_000,
      message: `only the pool's two idle browsers left, and the counts at ${JSON.stringify(baseline)} (now ${JSON.stringify(server.census())})`,
    },
  );
  return server.census();
}

/**
 * The worker's heap after full collections, as the objects in it and V8's compiled code (bytecode, machine code
 * and their metadata), apart. TurboFan goes on optimizing (and re-optimizing) functions of Node, puppeteer, ws,
 * undici and the server all run long: in heap snapshots the code grew by about 2 MiB over 1,000 cycles, each
 * piece held by the function it was compiled for, while with TurboFan off the whole heap stayed flat. That growth
 * is V8's, not a leak; whatever a leak holds (records, closures, sockets, buffers, listeners) is in the objects.
 */
function heap(): { objects: number; code: number } {
  for (let i = 0; i < 4; i++) gc();
  const { code_and_metadata_size, bytecode_and_metadata_size } = getHeapCodeStatistics();
  const code = code_and_metadata_size + bytecode_and_metadata_size;
  return { objects: process.memoryUsage().heapUsed - code, code };
}

it(
  `runs ${CYCLES} sessions through every ending with faults injected, and leaves nothing behind`,
  async () => {
    const half = Math.max(WARMUP, Math.floor(CYCLES / 2));
    await run(0, WARMUP);
    const baseline = await settled();
    // Nothing per session is held once no session runs.
    expect(baseline).toMatchObject({
      gatewaySessions: 0,
      hostBrowsers: 0,
      queuedCreates: 0,
      poolWaiters: 0,
      sessionCache: 0,
      hostSlots: 0,
      sessionsFinishing: 0,
      connectTokens: 0,
      stagehandRunners: 0,
      startingBrowsers: 0,
      artifactSweeps: 0,
    });
    const heapBefore = heap();

    await run(WARMUP, half);
    // A restart with sessions running: the server ends them on its way down, and the next one starts clean.
    const held = await Promise.all([0, 1].map(() => client.sessions.create({ keepAlive: true })));
    await server.close();
    await expectNothingLeft(dataDir.path);
    await startServer();
    for (const s of held) await ended(s.id, 'COMPLETED');
    await settled(baseline);

    await run(half, CYCLES);
    const after = await settled(baseline);
    expect(after).toEqual(baseline);
    const heapAfter = heap();
    const growth = (heapAfter.objects - heapBefore.objects) / heapBefore.objects;
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    console.info(
      `leak check: ${CYCLES} cycles; heap objects ${mib(heapBefore.objects)} → ${mib(heapAfter.objects)} MiB (${(growth * 100).toFixed(1)} %), compiled code ${mib(heapBefore.code)} → ${mib(heapAfter.code)} MiB; counts ${JSON.stringify(after)}`,
    );
    expect(growth).toBeLessThan(0.1);
    expect(rejections).toEqual([]);
  },
  CYCLES * 3_000 + 120_000,
);
