import { resolve } from 'node:path';
import { SERVER_ENV as E } from '@wallcrawler/contracts';
import { z } from 'zod';
import { MODEL_APIS } from './domain/model.js';
import type { UnsupportedFieldsMode } from './http/create-fields.js';
import { type ModelEndpoint, serverModelEndpoint } from './llm/model-endpoint.js';
import { defaultMaxSessions, defaultPoolSize } from './services/host-admission.js';

const schema = z.object({
  [E.host]: z.string().min(1).default('127.0.0.1'),
  [E.port]: z.coerce.number().int().min(0).max(65535).default(3000),
  [E.dataDir]: z.string().min(1).default('./.wallcrawler'),
  [E.chromePath]: z.string().min(1).optional(),
  [E.apiKey]: z.string().min(16, 'must be at least 16 characters').optional(),
  [E.publicUrl]: z.url({ protocol: /^https?$/ }).optional(),
  [E.logLevel]: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  [E.disconnectGraceMs]: z.coerce.number().int().min(0).max(600_000).default(5_000),
  [E.launchTimeoutMs]: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  [E.contextKey]: z
    .string()
    .transform((v) => (/^[0-9a-f]{64}$/i.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64')))
    .refine((key) => key.length === 32, 'must be 32 bytes: 64 hex digits, or base64 (openssl rand -hex 32)')
    .optional(),
  [E.contextMaxMb]: z.coerce.number().int().min(1).max(16_384).default(256),
  [E.uploadMaxMb]: z.coerce.number().int().min(1).max(4096).default(50),
  [E.artifactsRetentionHours]: z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(168),
  [E.artifactsMaxMb]: z.coerce.number().int().min(0).default(2048),
  [E.sessionDownloadsMaxMb]: z.coerce.number().int().min(1).default(512),
  [E.sessionLogMaxMb]: z.coerce.number().int().min(1).max(1024).default(16),
  [E.sessionRecordingMaxMb]: z.coerce.number().int().min(1).max(4096).default(64),
  [E.unsupportedFields]: z.enum(['refuse', 'ignore']).default('refuse'),
  [E.maxSessions]: z.coerce.number().int().min(1).max(10_000).optional(),
  [E.queueSize]: z.coerce.number().int().min(0).max(100_000).default(20),
  [E.queueTimeoutMs]: z.coerce.number().int().min(0).max(600_000).default(30_000),
  [E.poolSize]: z.coerce.number().int().min(0).max(1_000).optional(),
  [E.fetchMaxMb]: z.coerce.number().int().min(1).max(1024).default(4),
  [E.fetchTimeoutMs]: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  [E.searchUrl]: z.url({ protocol: /^https?$/ }).optional(),
  [E.modelBaseUrl]: z.url({ protocol: /^https?$/ }).optional(),
  [E.modelName]: z.string().min(1).optional(),
  [E.modelApiKey]: z.string().min(1).optional(),
  [E.modelApi]: z.enum(MODEL_APIS).default('responses'),
  [E.webhooksAllowPrivate]: z.enum(['true', 'false']).default('false'),
});

/** The local server's configuration, validated. */
export interface ServerConfig {
  /** @default '127.0.0.1' — only this machine can connect unless told otherwise. */
  host: string;
  /** @default 3000; 0 picks a free port. */
  port: number;
  /** Absolute. @default ./.wallcrawler */
  dataDir: string;
  chromePath?: string;
  /** Becomes an API key of the default project. */
  apiKey?: string;
  /** The base URL clients reach the server at, for `connectUrl`s. @default each request's own origin */
  publicUrl?: string;
  logLevel: string;
  /** @default 5_000 */
  disconnectGraceMs: number;
  /** How long a Chromium start may take before it is given up (and tried once more if the create has time). @default 30_000 */
  launchTimeoutMs: number;
  /** Contexts' AES-256-GCM key. @default a key generated into `<dataDir>/context-key` */
  contextKey?: Buffer;
  /** @default 256 MiB */
  contextMaxBytes: number;
  /** @default 50 MiB */
  uploadMaxBytes: number;
  /** Artifacts (downloads, logs, recordings) are kept this long, and all of them under `maxBytes`. @default 7 days, 2 GiB */
  artifactsRetention: { maxAgeMs: number; maxBytes: number };
  /** @default 512 MiB */
  sessionDownloadsMaxBytes: number;
  /** @default 16 MiB */
  sessionLogMaxBytes: number;
  /** @default 64 MiB */
  sessionRecordingMaxBytes: number;
  /** What a create asking for an unsupported feature gets: a 400, or the field ignored. @default 'refuse' */
  unsupportedFields: UnsupportedFieldsMode;
  /** Browsers this host runs at once; creates past it wait `queue.timeoutMs` in a per-project queue of `queue.size`. */
  admission: { maxSessions: number; queueSize: number; queueTimeoutMs: number };
  /** Browsers kept started ahead of sessions (never more than the host's room besides its sessions); 0 is off. */
  poolSize: number;
  /** `POST /v1/fetch`: the most of a body an answer carries (the rest is cut), and the deadline. @default 4 MiB, 30 s */
  fetch: { maxBytes: number; timeoutMs: number };
  /** A SearXNG instance's base URL for `POST /v1/search`; without it search answers 501. */
  searchUrl?: string;
  /** The server-wide model endpoint of `POST /v1/llm/responses` (projects may set their own). */
  model?: ModelEndpoint;
  /** Whether webhooks may target loopback, private and link-local addresses. @default false */
  webhooksAllowPrivate: boolean;
  /**
   * Test-only, and set by no environment variable: the shortest session `timeout` a create accepts, in seconds,
   * so that tests reach a timeout in seconds. Users keep Browserbase's minimum. @default 60
   */
  minSessionTimeoutSeconds?: number;
}

/**
 * Reads the server's configuration from `env`, once, at start.
 * @throws Error listing every invalid variable at once.
 */
export function loadServerConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${problems}`);
  }
  const c = result.data;
  const publicUrl = c[E.publicUrl];
  return {
    host: c[E.host],
    port: c[E.port],
    dataDir: resolve(c[E.dataDir]),
    logLevel: c[E.logLevel],
    disconnectGraceMs: c[E.disconnectGraceMs],
    launchTimeoutMs: c[E.launchTimeoutMs],
    contextMaxBytes: c[E.contextMaxMb] * 1024 * 1024,
    uploadMaxBytes: c[E.uploadMaxMb] * 1024 * 1024,
    artifactsRetention: {
      maxAgeMs: c[E.artifactsRetentionHours] * 3_600_000,
      maxBytes: c[E.artifactsMaxMb] * 1024 * 1024,
    },
    sessionDownloadsMaxBytes: c[E.sessionDownloadsMaxMb] * 1024 * 1024,
    sessionLogMaxBytes: c[E.sessionLogMaxMb] * 1024 * 1024,
    sessionRecordingMaxBytes: c[E.sessionRecordingMaxMb] * 1024 * 1024,
    unsupportedFields: c[E.unsupportedFields],
    admission: {
      maxSessions: c[E.maxSessions] ?? defaultMaxSessions(),
      queueSize: c[E.queueSize],
      queueTimeoutMs: c[E.queueTimeoutMs],
    },
    poolSize: c[E.poolSize] ?? defaultPoolSize(),
    fetch: { maxBytes: c[E.fetchMaxMb] * 1024 * 1024, timeoutMs: c[E.fetchTimeoutMs] },
    ...(c[E.searchUrl] ? { searchUrl: c[E.searchUrl] } : {}),
    ...serverModelEndpoint(
      { baseUrl: c[E.modelBaseUrl], model: c[E.modelName], apiKey: c[E.modelApiKey], api: c[E.modelApi] },
      E,
    ),
    webhooksAllowPrivate: c[E.webhooksAllowPrivate] === 'true',
    ...(c[E.contextKey] ? { contextKey: c[E.contextKey] } : {}),
    ...(c[E.chromePath] ? { chromePath: c[E.chromePath] } : {}),
    ...(c[E.apiKey] ? { apiKey: c[E.apiKey] } : {}),
    ...(publicUrl ? { publicUrl: publicUrl.replace(/\/$/, '') } : {}),
  };
}
