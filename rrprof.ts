import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import puppeteer from 'puppeteer-core';
import { PAGE_HTML } from './bench/page-server.js';
import { loadServerConfig } from './packages/server/src/config.js';
import { startLocalServer } from './packages/server/src/runtime/node.js';

const pageSrv = createServer((_q, r) => {
  r.setHeader('content-type', 'text/html');
  r.end(PAGE_HTML);
});
await new Promise<void>((r) => pageSrv.listen(0, '127.0.0.1', r));
const purl = `http://127.0.0.1:${(pageSrv.address() as any).port}/page`;
const dir = mkdtempSync('/tmp/wallcrawler-rr-');
const key = 'wc_try_0123456789abcdef0123';
const server = await startLocalServer(
  loadServerConfig({
    WALLCRAWLER_PORT: '0',
    WALLCRAWLER_DATA_DIR: dir,
    WALLCRAWLER_API_KEY: key,
    WALLCRAWLER_POOL_SIZE: '0',
    WALLCRAWLER_LOG_LEVEL: 'silent',
  }),
);
for (const body of ['{}', '{"browserSettings":{"recordSession":false}}']) {
  const s = (await (
    await fetch(`${server.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-bb-api-key': key, 'content-type': 'application/json' },
      body,
    })
  ).json()) as any;
  const b = await puppeteer.connect({ browserWSEndpoint: s.connectUrl, defaultViewport: null });
  const [p] = await b.pages();
  await p!.goto(`${purl}?warm`);
  const cdp = await p!.createCDPSession();
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cdp.send('Profiler.start');
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    await p!.goto(`${purl}?${i}`, { waitUntil: 'load' });
    loads.push(
      await p!.evaluate(() => {
        const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return Math.round(n.loadEventEnd - n.startTime);
      }),
    );
  }
  const { profile } = await cdp.send('Profiler.stop');
  const cpu = profile.timeDeltas!.reduce((a: number, b: number) => a + b, 0) / 1000;
  let idle = 0;
  const nodes = new Map(profile.nodes.map((n: any) => [n.id, n]));
  profile.samples!.forEach((sid: number, i: number) => {
    if ((nodes.get(sid) as any).callFrame.functionName === '(idle)') idle += profile.timeDeltas![i]!;
  });
  writeFileSync(`/tmp/prof/rr-${body.length}.cpuprofile`, JSON.stringify(profile));
  console.log(body, 'load ms', loads.join(','), 'busy ms', (cpu - idle / 1000).toFixed(0));
  const recording = (await (
    await fetch(`${server.url}/v1/sessions/${s.id}/recording`, { headers: { 'x-bb-api-key': key } })
  ).json()) as any[];
  console.log(
    'recorded events',
    recording.length,
    'full snapshots',
    recording.filter((e) => e.type === 2).length,
    'iframe in snapshot',
    JSON.stringify(recording).includes('"tagName":"iframe"'),
  );
  await b.disconnect();
  await fetch(`${server.url}/v1/sessions/${s.id}`, {
    method: 'POST',
    headers: { 'x-bb-api-key': key, 'content-type': 'application/json' },
    body: '{"status":"REQUEST_RELEASE"}',
  });
}
await server.close();
pageSrv.close();
