/**
 * Points Stagehand at a Wallcrawler server instead of Browserbase, in one line, for both majors:
 * - Stagehand 3 reads its endpoints from the environment only: `wallcrawlerV3()` sets them and returns the
 *   constructor options;
 * - Stagehand 4 takes them as options: `launch()` / `connect()` wrap `browserbase.launch/connect`, and
 *   `stagehandOptions()` fills `Stagehand.create`'s `apiUrl`.
 *
 * Stagehand itself is not imported here: you pass what you already use, so one adapter serves both majors.
 */

/** Where the Wallcrawler server is and the key to use. */
export interface WallcrawlerConnection {
  /** A Wallcrawler API key. @default process.env.WALLCRAWLER_API_KEY */
  apiKey?: string | undefined;
  /** The server's base URL, e.g. `http://127.0.0.1:3000`. @default process.env.WALLCRAWLER_BASE_URL */
  baseUrl?: string | undefined;
}

type Env = Record<string, string | undefined>;

/**
 * The connection with its defaults applied and checked.
 * @throws Error naming what is missing or malformed
 */
export function resolveConnection(
  connection: WallcrawlerConnection = {},
  env: Env = process.env,
): { apiKey: string; baseUrl: string } {
  const apiKey = connection.apiKey ?? env.WALLCRAWLER_API_KEY;
  const rawUrl = connection.baseUrl ?? env.WALLCRAWLER_BASE_URL;
  if (!apiKey) throw new Error('Wallcrawler: no API key. Pass { apiKey } or set WALLCRAWLER_API_KEY.');
  if (!rawUrl) throw new Error('Wallcrawler: no server URL. Pass { baseUrl } or set WALLCRAWLER_BASE_URL.');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new Error(`Wallcrawler: baseUrl must be an http(s) URL, not ${JSON.stringify(rawUrl)}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`Wallcrawler: baseUrl must be an http(s) URL, not ${JSON.stringify(rawUrl)}.`);
  }
  if (url.search || url.hash) throw new Error('Wallcrawler: baseUrl must not have a query or a fragment.');
  // Stagehand appends /v1 itself (and Stagehand 4 refuses a base URL that ends in it).
  const baseUrl = url.href.replace(/\/+$/, '').replace(/\/v1$/, '');
  return { apiKey, baseUrl };
}

/**
 * The environment Stagehand 3 reads its endpoints from: the Browserbase API (`BROWSERBASE_BASE_URL`, through the
 * SDK it builds, which has no option for it) and the hosted Stagehand API (`STAGEHAND_API_URL`).
 */
export function stagehandV3Env(connection?: WallcrawlerConnection, env: Env = process.env): Record<string, string> {
  const { apiKey, baseUrl } = resolveConnection(connection, env);
  return { BROWSERBASE_API_KEY: apiKey, BROWSERBASE_BASE_URL: baseUrl, STAGEHAND_API_URL: baseUrl };
}

/**
 * Stagehand 3's constructor options for Wallcrawler: `env: "BROWSERBASE"` and the key, with your other options
 * kept. It also sets `stagehandV3Env()` in `env` (default `process.env`), which Stagehand 3 needs, since it reads
 * both endpoints only from there; and its crash supervisor inherits them.
 *
 * ```ts
 * const stagehand = new Stagehand(wallcrawlerV3({ baseUrl: 'http://127.0.0.1:3000' }, { model }));
 * ```
 */
export function wallcrawlerV3<Options extends object>(
  connection?: WallcrawlerConnection,
  options?: Options,
  env: Env = process.env,
): Options & { env: 'BROWSERBASE'; apiKey: string } {
  const variables = stagehandV3Env(connection, env);
  Object.assign(env, variables);
  return { ...(options ?? ({} as Options)), env: 'BROWSERBASE', apiKey: variables.BROWSERBASE_API_KEY as string };
}

/** The part of Stagehand 4's `browserbase` export these helpers use. */
export interface BrowserbaseLauncher<Browser> {
  launch(options: { apiKey: string; baseUrl?: string } & Record<string, unknown>): Promise<Browser>;
  connect(options: { apiKey: string; baseUrl?: string; sessionId: string } & Record<string, unknown>): Promise<Browser>;
}

/**
 * Stagehand 4: `browserbase.launch()` against Wallcrawler. `params` are Browserbase's session create fields
 * (`keepAlive`, `browserSettings`, `userMetadata`, ...) and launch options (`clientOptions`).
 *
 * ```ts
 * import { browserbase, Stagehand } from '@browserbasehq/stagehand';
 * const browser = await launch(browserbase, { baseUrl: 'http://127.0.0.1:3000' });
 * const stagehand = await Stagehand.create(stagehandOptions({ browser }));
 * ```
 */
export function launch<Browser>(
  browserbase: BrowserbaseLauncher<Browser>,
  connection?: WallcrawlerConnection,
  params: Record<string, unknown> = {},
): Promise<Browser> {
  const { apiKey, baseUrl } = resolveConnection(connection);
  return browserbase.launch({ ...params, apiKey, baseUrl });
}

/** Stagehand 4: `browserbase.connect()` to a running Wallcrawler session (one that has Stagehand's extension). */
export function connect<Browser>(
  browserbase: BrowserbaseLauncher<Browser>,
  sessionId: string,
  connection?: WallcrawlerConnection,
  params: Record<string, unknown> = {},
): Promise<Browser> {
  const { apiKey, baseUrl } = resolveConnection(connection);
  return browserbase.connect({ ...params, apiKey, baseUrl, sessionId });
}

/**
 * Stagehand 4: `Stagehand.create` options with `apiUrl` set to Wallcrawler, so Stagehand's service calls (its
 * cache) go to the server rather than to Browserbase's hosts.
 */
export function stagehandOptions<Options extends object>(
  options: Options,
  connection?: WallcrawlerConnection,
): Options & { apiUrl: string } {
  return { ...options, apiUrl: resolveConnection(connection).baseUrl };
}
