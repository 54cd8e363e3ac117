// Stagehand 4 against Wallcrawler, run on Node 22 (Stagehand 4 needs it) by test/compat/stagehand-v4.test.ts.
// Input (env): WALLCRAWLER_URL, WALLCRAWLER_API_KEY, PAGE_URL, and USE_ADAPTER=1 to go through
// @wallcrawler/stagehand-adapter (its TypeScript source, which Node 22 runs by stripping the types), and
// AI_PAGE_URL to run `observe`, `act` and `extract` on that page with no model in the client (Stagehand's model
// calls then go to the server's POST /v1/llm/responses). Output: one JSON line on stdout with what it saw.
import { browserbase, Stagehand } from '@browserbasehq/stagehand';

const baseUrl = process.env.WALLCRAWLER_URL;
const apiKey = process.env.WALLCRAWLER_API_KEY;
const report = { node: process.version };

const userMetadata = { run: 'stagehand-v4' };
let browser;
let stagehand;
if (process.env.USE_ADAPTER === '1') {
  const adapter = await import('../../packages/stagehand-adapter/src/index.ts');
  browser = await adapter.launch(browserbase, { apiKey, baseUrl }, { userMetadata });
  stagehand = await Stagehand.create(adapter.stagehandOptions({ browser }, { apiKey, baseUrl }));
} else {
  browser = await browserbase.launch({ apiKey, baseUrl, userMetadata });
  stagehand = await Stagehand.create({ browser, apiUrl: baseUrl });
}
report.sessionId = browser.sessionId;
try {
  const page = await browser.context.newPage(process.env.PAGE_URL);
  report.title = await page.title();
  report.price = await page.evaluate(() => document.querySelector('#price')?.textContent);
  await page.locator('#save').click();
  report.clickedTitle = await page.evaluate(() => document.title);
  if (process.env.AI_PAGE_URL) {
    const form = await browser.context.newPage(process.env.AI_PAGE_URL);
    const observed = await stagehand.observe('find the "Save" button');
    report.observed = observed.data.map(({ description, method }) => ({ description, method }));
    const typed = await stagehand.act('type "Ada" into the "Name" textbox');
    const clicked = await stagehand.act('click the "Save" button');
    report.acted = [typed.data.success, clicked.data.success];
    report.formTitle = await form.evaluate(() => document.title);
    const extracted = await stagehand.extract('the price on the page');
    report.extracted = extracted.data;
  }
} finally {
  await stagehand.close();
  await browser.close();
}
process.stdout.write(`${JSON.stringify(report)}\n`);
