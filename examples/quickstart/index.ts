import { Wallcrawler } from '@wallcrawler/sdk';
import puppeteer from 'puppeteer-core';

// Reads WALLCRAWLER_API_KEY and WALLCRAWLER_BASE_URL, which `npm start` prints on its first run.
const wallcrawler = new Wallcrawler();
const url = process.argv[2] ?? 'https://example.com';

const session = await wallcrawler.sessions.create({
  browserSettings: { viewport: { width: 1280, height: 800 } },
  userMetadata: { example: 'quickstart' },
});
console.log(`Session ${session.id} is ${session.status}`);

const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
const page = (await browser.pages())[0] ?? (await browser.newPage());
await page.goto(url);
console.log(`Title: ${await page.title()}`);
console.log(`Viewport: ${await page.evaluate(() => `${window.innerWidth}x${window.innerHeight}`)}`);
await browser.disconnect();

const released = await wallcrawler.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
console.log(`Session ${released.id} is ${released.status}`);
