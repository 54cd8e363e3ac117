// Stagehand 3 on a Wallcrawler server: the session, and `act`, `observe` and `extract`, run on the server.
// Env: WALLCRAWLER_API_KEY, WALLCRAWLER_BASE_URL (the server), MODEL_API_KEY and MODEL_BASE_URL (any
// OpenAI-compatible endpoint; default OpenAI's). Argument: the page to open.
import { Stagehand } from '@browserbasehq/stagehand';
import { wallcrawlerV3 } from '@wallcrawler/stagehand-adapter';
import { z } from 'zod';

const url = process.argv[2] ?? 'https://example.com';
const stagehand = new Stagehand(
  wallcrawlerV3(undefined, {
    model: {
      modelName: 'openai/gpt-4.1-mini',
      apiKey: process.env.MODEL_API_KEY,
      baseURL: process.env.MODEL_BASE_URL ?? 'https://api.openai.com/v1',
    },
    verbose: 0,
    disablePino: true,
  }),
);
await stagehand.init();
console.log(`Session ${stagehand.browserbaseSessionID} started`);
try {
  const page = stagehand.context.pages()[0];
  await page?.goto(url);
  const [button] = await stagehand.observe('find the "Save" button');
  console.log(`Observed: ${button?.description}`);
  await stagehand.act('type "Ada" into the "Name" textbox');
  await stagehand.act('click the "Save" button');
  console.log(`Title: ${await page?.title()}`);
  const { price } = await stagehand.extract('the price', z.object({ price: z.string() }));
  console.log(`Price: ${price}`);
} finally {
  await stagehand.close();
  console.log('Session closed');
}
