/**
 * The controller's image (part of `npm run bench`; alone: `npm run bench:image`):
 *
 * - its uncompressed size, as the engine reports it (Fargate pulls it on every cold start);
 * - the time from the engine's `run` to a client's first page: the container starts, the controller launches
 *   Chromium and says the session is ready, a client (puppeteer-core) connects with the session's token, opens
 *   a page and loads the bench page; then the engine's stop and the time to the container's exit 0.
 *
 *   tsx --conditions=@wallcrawler/source bench/image.ts [--iterations 5] [--out bench/results]
 *
 * Skipped, with a message and exit 0, when this machine has no engine that runs containers or no image
 * (`npm run image` builds it). Writes image.json and image.md next to the main bench's results.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONTROLLER_ENV as E, signConnectToken } from '@wallcrawler/contracts';
import { freePort, waitFor } from '@wallcrawler/test-support';
import { removeLabelled, runContainer } from '@wallcrawler/test-support/controller-container';
import puppeteer from 'puppeteer-core';
import { CONTROLLER_IMAGE, type ContainerEngine, detectEngine, output } from '../scripts/container-engine.js';
import { EXPECTED_TITLE, startPageServer } from './page-server.js';
import { progress } from './progress.js';
import { type Summary, summarize } from './stats.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const label = `bench-${process.pid}`;

interface Sample {
  readyMs: number;
  firstPageMs: number;
  stopMs: number;
}

/** One container: run → ready line → connect → first page loaded; then stop → exit. */
async function once(engine: ContainerEngine, pageUrl: (i: number) => string, i: number): Promise<Sample> {
  const secret = randomBytes(32);
  const sessionId = randomUUID();
  const expiresAt = new Date(Date.now() + 300_000);
  const port = await freePort();
  const t0 = performance.now();
  const container = runContainer(engine, CONTROLLER_IMAGE, label, {
    [E.sessionId]: sessionId,
    [E.projectId]: 'bench',
    [E.connectSecret]: secret.toString('base64url'),
    [E.expiresAt]: expiresAt.toISOString(),
    [E.host]: '127.0.0.1',
    [E.port]: String(port),
    [E.logLevel]: 'info',
  });
  try {
    await waitFor(() => container.output().includes('"session ready"'), {
      timeout: 60_000,
      interval: 10,
      message: 'the session to be ready in the container',
    });
    const readyMs = performance.now() - t0;
    const token = await signConnectToken(secret, { sessionId, projectId: 'bench', expiresAt });
    const browser = await puppeteer.connect({
      browserWSEndpoint: `ws://127.0.0.1:${port}/?signingKey=${token}`,
      defaultViewport: null,
    });
    const page = await browser.newPage();
    await page.goto(pageUrl(i), { waitUntil: 'load' });
    const firstPageMs = performance.now() - t0;
    if ((await page.title()) !== EXPECTED_TITLE) throw new Error('the bench page did not load');
    const t1 = performance.now();
    output(engine.name, engine.args('stop', '--time', '30', container.name));
    const code = await container.exited;
    const stopMs = performance.now() - t1;
    await browser.disconnect().catch(() => {});
    if (code !== 0) throw new Error(`the container exited ${code}:\n${container.output().slice(-2000)}`);
    return { readyMs, firstPageMs, stopMs };
  } finally {
    container.process.kill('SIGKILL');
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: { iterations: { type: 'string' }, out: { type: 'string' } },
  });
  const iterations = Number(values.iterations ?? 5);
  const outDir = values.out ?? join(benchDir, 'results');
  const engine = detectEngine();
  if (!engine?.canRun) {
    progress('image', 'skipped: no container engine that runs containers (Docker or Podman) on this machine');
    return 0;
  }
  if (!engine.hasImage(CONTROLLER_IMAGE)) {
    progress('image', `skipped: no image ${CONTROLLER_IMAGE} (build it with \`npm run image\`)`);
    return 0;
  }
  const bytes = engine.imageSize(CONTROLLER_IMAGE);
  progress('image', `${CONTROLLER_IMAGE}: ${bytes ? `${(bytes / 1e6).toFixed(0)} MB` : 'size unknown'}`);
  const pages = await startPageServer();
  const samples: Sample[] = [];
  try {
    // One warm-up: the first run after a build also loads the image's files into the page cache.
    for (let i = 0; i <= iterations; i++) {
      const sample = await once(engine, pages.url, i);
      if (i > 0) samples.push(sample);
      progress(
        'image',
        `${i === 0 ? '(warm-up) ' : ''}run → ready ${Math.round(sample.readyMs)} ms, → first page ${Math.round(sample.firstPageMs)} ms; stop → exit ${Math.round(sample.stopMs)} ms`,
      );
    }
  } finally {
    await pages.close();
    removeLabelled(engine, label);
  }
  const ready: Summary = summarize(
    samples.map((s) => s.readyMs),
    0,
  );
  const firstPage: Summary = summarize(
    samples.map((s) => s.firstPageMs),
    0,
  );
  const stop: Summary = summarize(
    samples.map((s) => s.stopMs),
    0,
  );
  const result = {
    date: new Date().toISOString(),
    engine: engine.name,
    image: CONTROLLER_IMAGE,
    bytes,
    runToReadyMs: ready,
    runToFirstPageMs: firstPage,
    stopToExitMs: stop,
    samples,
  };
  const md = [
    '## The controller image',
    '',
    '| measure | median | p95 | detail |',
    '|---|---:|---:|---|',
    `| image size, uncompressed | ${bytes ? `${(bytes / 1e6).toFixed(0)} MB` : '?'} | | ${engine.name}; target ≤ 900 MB (1.71 GB before the bundled /app) |`,
    `| \`run\` → the controller's "session ready" | ${ready.median} ms | ${ready.p95} ms | ${ready.n} containers, one at a time |`,
    `| \`run\` → a client's first page loaded | ${firstPage.median} ms | ${firstPage.p95} ms | puppeteer-core connects with the session's token, opens a page, loads the bench page |`,
    `| stop (SIGTERM through tini) → exit 0 | ${stop.median} ms | ${stop.p95} ms | the session's close path, then the container's end |`,
    '',
    'On Fargate a cold task adds the ENI attachment and the image pull before `run`; the pull is where the size counts.',
    '',
  ].join('\n');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'image.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, 'image.md'), md);
  console.log(md);
  progress('image', `wrote ${join(outDir, 'image.json')} and image.md`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
