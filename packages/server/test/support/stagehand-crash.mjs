// A Stagehand 3 user process that dies without closing: it starts a session, prints its id, and kills itself
// with SIGKILL. Its environment points Stagehand at the server (BROWSERBASE_BASE_URL, STAGEHAND_API_URL, keys).
// argv[2]: "api" (the default hosted-API mode) or "direct" (disableAPI: true).
import { Stagehand } from '@browserbasehq/stagehand';

const mode = process.argv[2] ?? 'api';
const stagehand = new Stagehand({
  env: 'BROWSERBASE',
  disableAPI: mode === 'direct',
  model: {
    modelName: 'openai/gpt-4.1-mini',
    apiKey: process.env.MODEL_KEY ?? 'unused',
    baseURL: process.env.MODEL_BASE_URL ?? 'http://127.0.0.1:9/v1',
  },
  verbose: 0,
  disablePino: true,
  logger: () => {},
});
await stagehand.init();
process.stdout.write(`${JSON.stringify({ sessionId: stagehand.browserbaseSessionID })}\n`);
// Give the shutdown supervisor time to start watching before the crash.
setTimeout(() => process.kill(process.pid, 'SIGKILL'), 500);
