import { EDGE_ENV as E } from '@wallcrawler/contracts';
import { z } from 'zod';

/** The connect edge's configuration, from its environment (`EDGE_ENV`). */
export interface EdgeConfig {
  host: string;
  port: number;
  /** How often each client's WebSocket is pinged (CloudFront drops one idle for 10 minutes). */
  pingMs: number;
  /** The public base clients reach the edge at (`https://host`), for DevTools discovery's URLs. */
  publicUrl: string | undefined;
  connectSecret: Uint8Array;
  sessionsTable: string;
  region: string;
  dynamodbEndpoint: string | undefined;
  logLevel: string;
}

const schema = z.object({
  [E.host]: z.string().min(1).default('127.0.0.1'),
  [E.port]: z.coerce.number().int().min(0).max(65535).default(8080),
  // At least a second: a smaller interval is a typo, and would flood every client.
  [E.pingMs]: z.coerce.number().int().min(1_000).max(540_000).default(60_000),
  [E.publicUrl]: z
    .url()
    .refine((v) => /^https?:\/\//.test(v), 'expected an http(s):// URL')
    .optional(),
  [E.connectSecret]: z
    .string()
    .transform((v) => Buffer.from(v, 'base64url'))
    .refine((b) => b.length >= 32, 'must decode to at least 32 bytes'),
  [E.sessionsTable]: z.string().min(3),
  [E.awsRegion]: z.string().min(1),
  [E.dynamodbEndpoint]: z.url().optional(),
  [E.logLevel]: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

/**
 * Reads the edge's environment.
 * @throws Error listing every missing or invalid variable at once (never a value: the secret is one)
 */
export function loadEdgeConfig(env: Record<string, string | undefined> = process.env): EdgeConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid connect edge configuration:\n${problems.join('\n')}`);
  }
  const c = result.data;
  return {
    host: c[E.host],
    port: c[E.port],
    pingMs: c[E.pingMs],
    publicUrl: c[E.publicUrl]?.replace(/\/$/, ''),
    connectSecret: c[E.connectSecret],
    sessionsTable: c[E.sessionsTable],
    region: c[E.awsRegion],
    dynamodbEndpoint: c[E.dynamodbEndpoint],
    logLevel: c[E.logLevel],
  };
}
