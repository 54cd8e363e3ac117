import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTROLLER_ENV as E, type ProxyRoute } from '@wallcrawler/contracts';
import { z } from 'zod';
import { parseContextKey } from '../keeping/context-profile.js';
import { openProxyRoutes } from '../proxy/sealed-routes.js';
import type { FileLimits } from './file-keeping.js';

const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const viewport = z
  .string()
  .regex(/^\d+x\d+$/, 'expected WIDTHxHEIGHT, e.g. 1024x768')
  .transform((v) => {
    const [width, height] = v.split('x').map(Number) as [number, number];
    return { width, height };
  });

const schema = z.object({
  [E.sessionId]: z.string().min(1).optional(),
  [E.projectId]: z.string().min(1).optional(),
  [E.connectSecret]: z
    .string()
    .transform((v) => Buffer.from(v, 'base64url'))
    .refine((b) => b.length >= 32, 'must decode to at least 32 bytes'),
  [E.expiresAt]: z.iso
    .datetime()
    .transform((v) => new Date(v))
    .optional(),
  [E.keepAlive]: boolean.default(false),
  [E.viewport]: viewport.optional(),
  [E.proxies]: z.string().min(1).optional(),
  [E.host]: z.string().min(1).optional(),
  [E.port]: z.coerce.number().int().min(0).max(65535).default(9223),
  [E.externalUrl]: z.url().optional(),
  [E.chromePath]: z.string().optional(),
  [E.dataDir]: z.string().default(join(tmpdir(), 'wallcrawler')),
  [E.disconnectGraceMs]: z.coerce.number().int().min(0).default(5_000),
  [E.logLevel]: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  [E.idleTimeoutMs]: z.coerce.number().int().min(1_000).default(300_000),
  [E.sessionsTable]: z.string().min(3).optional(),
  [E.projectsTable]: z.string().min(3).optional(),
  [E.tasksTable]: z.string().min(3).optional(),
  [E.poolIdleTimeoutMs]: z.coerce.number().int().min(1_000).default(600_000),
  [E.claimPollMs]: z.coerce.number().int().min(10).max(5_000).default(200),
  [E.launchTimeoutMs]: z.coerce.number().int().min(1_000).default(30_000),
  [E.proxyBytesIntervalMs]: z.coerce.number().int().min(100).default(5_000),
  [E.dynamodbEndpoint]: z.url().optional(),
  [E.awsRegion]: z.string().min(1).optional(),
  [E.ecsMetadataUri]: z.url().optional(),
  [E.advertise]: z.enum(['private', 'public']).default('private'),
  [E.resourcesTable]: z.string().min(3).optional(),
  [E.blobsBucket]: z.string().min(3).optional(),
  [E.s3Endpoint]: z.url().optional(),
  [E.contextKey]: z.string().min(1).optional(),
  [E.contextMaxMb]: z.coerce.number().int().min(1).max(16_384).default(256),
  // The local server's limits and defaults (its config.ts), so a session keeps the same on AWS.
  [E.sessionDownloadsMaxMb]: z.coerce.number().int().min(1).default(512),
  [E.sessionLogMaxMb]: z.coerce.number().int().min(1).max(1024).default(16),
  [E.sessionRecordingMaxMb]: z.coerce.number().int().min(1).max(4096).default(64),
});

/** What a session asks of its browser. Absent in a warm-pool task until a create claims it. */
export interface SessionSettings {
  sessionId: string;
  projectId: string;
  expiresAt: Date;
  keepAlive: boolean;
  viewport: { width: number; height: number } | undefined;
  /** Where the browser's traffic goes (proxies of the user's); straight out when undefined. */
  proxies?: ProxyRoute[] | undefined;
}

/** Everything but the session: how the controller runs, where it reports, and its pool settings. */
export interface ControllerBaseConfig {
  connectSecret: Uint8Array;
  /** The address the proxy binds to. @default the task's private IP in ECS, else 127.0.0.1 */
  host: string | undefined;
  port: number;
  externalUrl: string | undefined;
  chromePath: string | undefined;
  dataDir: string;
  disconnectGraceMs: number;
  logLevel: string;
  /** Ends a session no client has connected to for this long since it started. */
  idleTimeoutMs: number;
  /** How long Chromium may take to start. */
  launchTimeoutMs: number;
  /** How often a running session's proxy byte count is reported (task mode). @default 5_000 */
  proxyBytesIntervalMs?: number;
  /** Task mode: where the session's status is reported. Absent: the controller reports nowhere but its logs. */
  store:
    | {
        sessionsTable: string;
        projectsTable: string;
        /** Contexts' items and locks; without it a context's lock waits for the next writer to clear it. */
        resourcesTable?: string | undefined;
        region: string;
        endpoint: string | undefined;
      }
    | undefined;
  /**
   * Task mode: the bucket sessions keep their blobs in (contexts, extensions), with contexts' key (which only
   * ECS `secrets` give the task) and size limit. Absent: sessions that need a blob cannot start here.
   */
  blobs?:
    | {
        bucket: string;
        endpoint: string | undefined;
        contextKey: Buffer | undefined;
        contextMaxBytes: number;
        /** The most a session keeps of its downloads, CDP log and recording. */
        fileLimits: FileLimits;
      }
    | undefined;
  /** In ECS: the task metadata endpoint. */
  ecsMetadataUri: string | undefined;
  /** In ECS: which of the task's addresses clients are given. */
  advertise: 'private' | 'public';
  /**
   * The warm pool (`WALLCRAWLER_TASKS_TABLE`): a task without a session waits idle in it for a create to claim
   * it, and ends itself after `idleTimeoutMs` unclaimed.
   */
  pool: { tasksTable: string; idleTimeoutMs: number; claimPollMs: number } | undefined;
}

/** The controller's configuration with its session. */
export type ControllerConfig = ControllerBaseConfig & SessionSettings;

type Env = Record<string, string | undefined>;

/**
 * Reads the controller's environment: its base configuration and, unless it is a warm-pool task waiting to be
 * claimed, its session.
 * @throws Error listing every missing or invalid variable at once.
 */
export function loadControllerEnvironment(env: Env = process.env): {
  base: ControllerBaseConfig;
  session: SessionSettings | undefined;
} {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  const problems = result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const has = (name: string) => present[name] !== undefined;
  // Checked apart from the schema, so that they are listed together with every other problem.
  if (has(E.sessionsTable) || has(E.projectsTable) || has(E.tasksTable)) {
    for (const name of [E.sessionsTable, E.projectsTable, E.awsRegion]) {
      if (!has(name)) problems.push(`${name}: required in task mode (when the session is reported to DynamoDB)`);
    }
  }
  if (present[E.advertise] === 'public') {
    for (const name of [E.ecsMetadataUri, E.awsRegion]) {
      if (!has(name)) problems.push(`${name}: required to advertise the public address (${E.advertise}=public)`);
    }
  }
  if (has(E.blobsBucket) && !has(E.awsRegion)) {
    problems.push(`${E.awsRegion}: required with ${E.blobsBucket} (the bucket's region)`);
  }
  if (has(E.tasksTable) && !has(E.ecsMetadataUri)) {
    problems.push(`${E.ecsMetadataUri}: required in a warm-pool task (it registers itself by its task ARN)`);
  }
  const sessionNames = [E.sessionId, E.projectId, E.expiresAt];
  const poolTask = has(E.tasksTable) && !sessionNames.some(has);
  if (!poolTask) {
    for (const name of sessionNames) {
      if (!has(name)) problems.push(`${name}: required (unless ${E.tasksTable} makes this a warm-pool task)`);
    }
  }
  let contextKey: Buffer | undefined;
  const keyText = result.success ? result.data[E.contextKey] : undefined;
  if (keyText) {
    try {
      contextKey = parseContextKey(keyText);
    } catch (error) {
      problems.push(`${E.contextKey}: ${(error as Error).message}`);
    }
  }
  let proxies: ProxyRoute[] | undefined;
  const sealed = result.success ? result.data[E.proxies] : undefined;
  const sealedFor = result.success ? result.data[E.sessionId] : undefined;
  if (result.success && sealed && sealedFor) {
    try {
      proxies = openProxyRoutes(result.data[E.connectSecret], sealedFor, sealed);
    } catch (error) {
      problems.push(`${E.proxies}: ${(error as Error).message}`);
    }
  }
  if (!result.success || problems.length > 0) {
    throw new Error(`Invalid controller configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  const c = result.data;
  const [sessionsTable, projectsTable, region, tasksTable] = [
    c[E.sessionsTable],
    c[E.projectsTable],
    c[E.awsRegion],
    c[E.tasksTable],
  ];
  const bucket = c[E.blobsBucket];
  const base: ControllerBaseConfig = {
    connectSecret: c[E.connectSecret],
    host: c[E.host],
    port: c[E.port],
    externalUrl: c[E.externalUrl],
    chromePath: c[E.chromePath],
    dataDir: c[E.dataDir],
    disconnectGraceMs: c[E.disconnectGraceMs],
    logLevel: c[E.logLevel],
    idleTimeoutMs: c[E.idleTimeoutMs],
    launchTimeoutMs: c[E.launchTimeoutMs],
    proxyBytesIntervalMs: c[E.proxyBytesIntervalMs],
    store:
      sessionsTable && projectsTable && region
        ? { sessionsTable, projectsTable, resourcesTable: c[E.resourcesTable], region, endpoint: c[E.dynamodbEndpoint] }
        : undefined,
    blobs: bucket
      ? {
          bucket,
          endpoint: c[E.s3Endpoint],
          contextKey,
          contextMaxBytes: c[E.contextMaxMb] * 1024 * 1024,
          fileLimits: {
            downloadsMaxBytes: c[E.sessionDownloadsMaxMb] * 1024 * 1024,
            logMaxBytes: c[E.sessionLogMaxMb] * 1024 * 1024,
            recordingMaxBytes: c[E.sessionRecordingMaxMb] * 1024 * 1024,
          },
        }
      : undefined,
    ecsMetadataUri: c[E.ecsMetadataUri],
    advertise: c[E.advertise],
    pool: tasksTable ? { tasksTable, idleTimeoutMs: c[E.poolIdleTimeoutMs], claimPollMs: c[E.claimPollMs] } : undefined,
  };
  const [sessionId, projectId, expiresAt] = [c[E.sessionId], c[E.projectId], c[E.expiresAt]];
  const session =
    sessionId && projectId && expiresAt
      ? { sessionId, projectId, expiresAt, keepAlive: c[E.keepAlive], viewport: c[E.viewport], proxies }
      : undefined;
  return { base, session };
}

/**
 * Reads the configuration of a controller that has its session.
 * @throws Error listing every missing or invalid variable at once.
 */
export function loadControllerConfig(env: Env = process.env): ControllerConfig {
  const { base, session } = loadControllerEnvironment(env);
  if (!session) {
    throw new Error(`Invalid controller configuration:\n  ${E.sessionId}: required (this is a warm-pool task)`);
  }
  return { ...base, ...session };
}
