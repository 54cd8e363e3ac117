import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CONTROLLER_ENV as E } from './env-names.js';

const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const viewport = z
  .string()
  .regex(/^\d+x\d+$/, 'expected WIDTHxHEIGHT, e.g. 1024x768')
  .transform((v) => {
    const [width, height] = v.split('x').map(Number) as [number, number];
    return { width, height };
  });

const schema = z
  .object({
    [E.sessionId]: z.string().min(1),
    [E.projectId]: z.string().min(1),
    [E.connectSecret]: z
      .string()
      .transform((v) => Buffer.from(v, 'base64url'))
      .refine((b) => b.length >= 32, 'must decode to at least 32 bytes'),
    [E.expiresAt]: z.iso.datetime().transform((v) => new Date(v)),
    [E.keepAlive]: boolean.default(false),
    [E.viewport]: viewport.optional(),
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
    [E.dynamodbEndpoint]: z.url().optional(),
    [E.awsRegion]: z.string().min(1).optional(),
    [E.ecsMetadataUri]: z.url().optional(),
    [E.advertise]: z.enum(['private', 'public']).default('private'),
  })
  .superRefine((c, ctx) => {
    // Task mode needs every table and a region, or none of it.
    if (c[E.sessionsTable] || c[E.projectsTable]) {
      for (const name of [E.sessionsTable, E.projectsTable, E.awsRegion] as const) {
        if (!c[name])
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: 'required in task mode (when the session is reported to DynamoDB)',
          });
      }
    }
    if (c[E.advertise] === 'public') {
      for (const name of [E.ecsMetadataUri, E.awsRegion] as const) {
        if (!c[name])
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `required to advertise the public address (${E.advertise}=public)`,
          });
      }
    }
  });

/** The standalone controller's configuration. */
export interface ControllerConfig {
  sessionId: string;
  projectId: string;
  connectSecret: Uint8Array;
  expiresAt: Date;
  keepAlive: boolean;
  viewport: { width: number; height: number } | undefined;
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
  /** Task mode: where the session's status is reported. Absent: the controller reports nowhere but its logs. */
  store: { sessionsTable: string; projectsTable: string; region: string; endpoint: string | undefined } | undefined;
  /** In ECS: the task metadata endpoint. */
  ecsMetadataUri: string | undefined;
  /** In ECS: which of the task's addresses clients are given. */
  advertise: 'private' | 'public';
}

/**
 * Reads the controller's configuration from `env`.
 * @throws Error listing every missing or invalid variable at once.
 */
export function loadControllerConfig(env: Record<string, string | undefined> = process.env): ControllerConfig {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid controller configuration:\n${problems}`);
  }
  const c = result.data;
  const [sessionsTable, projectsTable, region] = [c[E.sessionsTable], c[E.projectsTable], c[E.awsRegion]];
  return {
    sessionId: c[E.sessionId],
    projectId: c[E.projectId],
    connectSecret: c[E.connectSecret],
    expiresAt: c[E.expiresAt],
    keepAlive: c[E.keepAlive],
    viewport: c[E.viewport],
    host: c[E.host],
    port: c[E.port],
    externalUrl: c[E.externalUrl],
    chromePath: c[E.chromePath],
    dataDir: c[E.dataDir],
    disconnectGraceMs: c[E.disconnectGraceMs],
    logLevel: c[E.logLevel],
    idleTimeoutMs: c[E.idleTimeoutMs],
    store:
      sessionsTable && projectsTable && region
        ? { sessionsTable, projectsTable, region, endpoint: c[E.dynamodbEndpoint] }
        : undefined,
    ecsMetadataUri: c[E.ecsMetadataUri],
    advertise: c[E.advertise],
  };
}
