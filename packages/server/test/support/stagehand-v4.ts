import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs Stagehand 4.4's own flow (`compat/stagehand-v4/flow.mjs`: `browserbase.launch`, `Stagehand.create`, a page
 * driven, `close()`), unmodified, on the Node 22 it requires (the npm `node` package installed with it by
 * `scripts/prepare-tests.mjs`), against the API at `url`.
 */
const COMPAT = fileURLToPath(new URL('../../../../compat/stagehand-v4/', import.meta.url));

export interface StagehandV4Report {
  node: string;
  sessionId: string;
  title: string;
  price: string;
  clickedTitle: string;
  /** With `aiPageUrl`: what `observe`, `act` and `extract` gave on that page. */
  observed?: { description: string; method?: string }[];
  acted?: boolean[];
  formTitle?: string;
  extracted?: unknown;
}

export function runStagehandV4Flow(options: {
  url: string;
  apiKey: string;
  pageUrl: string;
  useAdapter?: boolean;
  /** A page to run `observe`, `act` and `extract` on, with no model configured in the client. */
  aiPageUrl?: string;
}): Promise<StagehandV4Report> {
  const child = spawn(`${COMPAT}node_modules/.bin/node`, [`${COMPAT}flow.mjs`], {
    cwd: COMPAT,
    env: {
      PATH: process.env.PATH,
      WALLCRAWLER_URL: options.url,
      WALLCRAWLER_API_KEY: options.apiKey,
      PAGE_URL: options.pageUrl,
      ...(options.useAdapter ? { USE_ADAPTER: '1' } : {}),
      ...(options.aiPageUrl ? { AI_PAGE_URL: options.aiPageUrl } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`Stagehand 4 flow exited ${code}:\n${stdout}\n${stderr}`));
      else resolve(JSON.parse(line) as StagehandV4Report);
    });
  });
}

/** The page the flow drives: a price to read and a button that retitles it. */
export const ORDER_PAGE =
  '<!doctype html><title>Order</title><p id="price">Price: 42 EUR</p><button id="save" onclick="document.title=\'Saved\'">Save</button>';
