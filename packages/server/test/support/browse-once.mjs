// A user's script against `npm run aws:local`, run with its printed lines as the environment (NODE_EXTRA_CA_CERTS
// among them, which Node reads only at start): the official SDK creates a session, puppeteer-core browses it over
// wss through the edge, and the session is released. Prints one JSON line.
import Browserbase from '@browserbasehq/sdk';
import puppeteer from 'puppeteer-core';

const { BROWSERBASE_BASE_URL: baseURL, BROWSERBASE_API_KEY: apiKey, PAGE_URL: pageUrl } = process.env;
const bb = new Browserbase({ apiKey, baseURL, maxRetries: 0 });
const session = await bb.sessions.create({});
const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl });
const [page] = await browser.pages();
await page.goto(pageUrl);
const title = await page.title();
await browser.disconnect();
await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
process.stdout.write(`${JSON.stringify({ sessionId: session.id, connectUrl: session.connectUrl, title })}\n`);
