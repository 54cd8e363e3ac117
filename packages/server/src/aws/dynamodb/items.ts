import { z } from 'zod';
import { CorruptRecordError } from '../../domain/errors.js';
import {
  type ApiKeyRecord,
  type ContextRecord,
  type ExtensionRecord,
  MODEL_APIS,
  type ProjectModelRecord,
  type ProjectRecord,
  REGIONS,
  SESSION_STATUSES,
  type SessionRecord,
} from '../../domain/model.js';

/**
 * How records map to DynamoDB items, both ways. Dates are epoch milliseconds (numbers sort in the GSIs); TTL is
 * epoch seconds, as DynamoDB requires. Decoding checks every attribute: an item with a missing or mistyped one
 * is a `CorruptRecordError` naming them, never a half-filled record (the original's `GetSession` silently lost
 * the session id this way).
 */

const text = z.string().min(1);
const millis = z.number().int().nonnegative();
const count = z.number().int().nonnegative();

const projectItem = z.object({
  projectId: text,
  name: z.string(),
  ownerId: text,
  defaultTimeout: z.number().int().positive(),
  concurrency: z.number().int().nonnegative(),
  createdAt: millis,
  updatedAt: millis,
});

const apiKeyItem = z.object({
  keyHash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 in hex'),
  apiKeyId: text,
  name: z.string(),
  prefix: z.string(),
  projectIds: z.array(text),
  createdAt: millis,
  revokedAt: millis.optional(),
});

const userMetadata = z.string().transform((value, ctx) => {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {}
  ctx.addIssue({ code: 'custom', message: 'expected a JSON object' });
  return z.NEVER;
});

const sessionItem = z.object({
  sessionId: text,
  projectId: text,
  status: z.enum(SESSION_STATUSES),
  region: z.enum(REGIONS),
  keepAlive: z.boolean(),
  timeoutSeconds: z.number().int().positive(),
  viewport: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).optional(),
  userMetadata: userMetadata.optional(),
  contextId: text.optional(),
  contextPersist: z.boolean().optional(),
  extensionId: text.optional(),
  logSession: z.boolean().optional(),
  recordSession: z.boolean().optional(),
  proxyBytes: count,
  createdAt: millis,
  updatedAt: millis,
  startedAt: millis,
  expiresAt: millis,
  endedAt: millis.optional(),
  endReason: z.string().optional(),
  connectEndpoint: z
    .string()
    .regex(/^wss?:\/\/[^/?#]+$/, 'expected ws(s)://host:port')
    .optional(),
  taskArn: text.optional(),
  startFailure: z.enum(['context_unusable', 'extension_unusable']).optional(),
});

type Item = Record<string, unknown>;

function parse<T extends z.ZodType>(schema: T, kind: string, idAttribute: string, item: Item): z.output<T> {
  const result = schema.safeParse(item);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
  const id = typeof item[idAttribute] === 'string' && item[idAttribute] ? String(item[idAttribute]) : '(no id)';
  throw new CorruptRecordError(kind, id, problems);
}

const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

export function projectToItem(p: ProjectRecord): Item {
  return {
    projectId: p.id,
    name: p.name,
    ownerId: p.ownerId,
    defaultTimeout: p.defaultTimeout,
    concurrency: p.concurrency,
    createdAt: p.createdAt.getTime(),
    updatedAt: p.updatedAt.getTime(),
  };
}

export function itemToProject(item: Item): ProjectRecord {
  const p = parse(projectItem, 'project', 'projectId', item);
  return {
    id: p.projectId,
    name: p.name,
    ownerId: p.ownerId,
    defaultTimeout: p.defaultTimeout,
    concurrency: p.concurrency,
    createdAt: new Date(p.createdAt),
    updatedAt: new Date(p.updatedAt),
  };
}

export function apiKeyToItem(k: ApiKeyRecord): Item {
  return {
    keyHash: k.hash,
    apiKeyId: k.id,
    name: k.name,
    prefix: k.prefix,
    projectIds: k.projectIds,
    createdAt: k.createdAt.getTime(),
    ...optional('revokedAt', k.revokedAt?.getTime()),
  };
}

export function itemToApiKey(item: Item): ApiKeyRecord {
  const k = parse(apiKeyItem, 'API key', 'apiKeyId', item);
  return {
    id: k.apiKeyId,
    name: k.name,
    hash: k.keyHash,
    prefix: k.prefix,
    projectIds: k.projectIds,
    createdAt: new Date(k.createdAt),
    ...optional('revokedAt', k.revokedAt === undefined ? undefined : new Date(k.revokedAt)),
  };
}

export function sessionToItem(s: SessionRecord): Item {
  return {
    sessionId: s.id,
    projectId: s.projectId,
    status: s.status,
    region: s.region,
    keepAlive: s.keepAlive,
    timeoutSeconds: s.timeoutSeconds,
    proxyBytes: s.proxyBytes,
    createdAt: s.createdAt.getTime(),
    updatedAt: s.updatedAt.getTime(),
    startedAt: s.startedAt.getTime(),
    expiresAt: s.expiresAt.getTime(),
    ...optional('viewport', s.viewport ? { width: s.viewport.width, height: s.viewport.height } : undefined),
    // JSON text, not a DynamoDB map: metadata is the client's, and a map would not keep every JSON value as it
    // was sent (empty keys, number precision).
    ...optional('userMetadata', s.userMetadata === undefined ? undefined : JSON.stringify(s.userMetadata)),
    ...optional('contextId', s.contextId),
    ...optional('contextPersist', s.contextPersist || undefined),
    ...optional('extensionId', s.extensionId),
    // Only the exception is written: an item without them logs and records (what the task reads).
    ...optional('logSession', s.logSession === false ? false : undefined),
    ...optional('recordSession', s.recordSession === false ? false : undefined),
    ...optional('endedAt', s.endedAt?.getTime()),
    ...optional('endReason', s.endReason),
    ...optional('connectEndpoint', s.connectEndpoint),
    ...optional('taskArn', s.taskArn),
  };
}

export function itemToSession(item: Item): SessionRecord {
  const s = parse(sessionItem, 'session', 'sessionId', item);
  return {
    id: s.sessionId,
    projectId: s.projectId,
    status: s.status,
    region: s.region,
    keepAlive: s.keepAlive,
    timeoutSeconds: s.timeoutSeconds,
    proxyBytes: s.proxyBytes,
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
    startedAt: new Date(s.startedAt),
    expiresAt: new Date(s.expiresAt),
    ...optional('viewport', s.viewport),
    ...optional('userMetadata', s.userMetadata),
    ...optional('contextId', s.contextId),
    ...optional('contextPersist', s.contextPersist),
    ...optional('extensionId', s.extensionId),
    ...optional('logSession', s.logSession),
    ...optional('recordSession', s.recordSession),
    ...optional('endedAt', s.endedAt === undefined ? undefined : new Date(s.endedAt)),
    ...optional('endReason', s.endReason),
    ...optional('connectEndpoint', s.connectEndpoint),
    ...optional('taskArn', s.taskArn),
    ...optional('startFailure', s.startFailure),
  };
}

const contextItem = z.object({
  resourceId: text,
  kind: z.literal('context'),
  projectId: text,
  name: z.string().optional(),
  createdAt: millis,
  updatedAt: millis,
});

const extensionItem = z.object({
  resourceId: text,
  kind: z.literal('extension'),
  projectId: text,
  fileName: z.string(),
  createdAt: millis,
  updatedAt: millis,
});

export function contextToItem(c: ContextRecord): Item {
  return {
    resourceId: c.id,
    kind: 'context',
    projectId: c.projectId,
    createdAt: c.createdAt.getTime(),
    updatedAt: c.updatedAt.getTime(),
    ...optional('name', c.name),
  };
}

export function itemToContext(item: Item): ContextRecord {
  const c = parse(contextItem, 'context', 'resourceId', item);
  return {
    id: c.resourceId,
    projectId: c.projectId,
    createdAt: new Date(c.createdAt),
    updatedAt: new Date(c.updatedAt),
    ...optional('name', c.name),
  };
}

export function extensionToItem(e: ExtensionRecord): Item {
  return {
    resourceId: e.id,
    kind: 'extension',
    projectId: e.projectId,
    fileName: e.fileName,
    createdAt: e.createdAt.getTime(),
    updatedAt: e.updatedAt.getTime(),
  };
}

export function itemToExtension(item: Item): ExtensionRecord {
  const e = parse(extensionItem, 'extension', 'resourceId', item);
  return {
    id: e.resourceId,
    projectId: e.projectId,
    fileName: e.fileName,
    createdAt: new Date(e.createdAt),
    updatedAt: new Date(e.updatedAt),
  };
}

/** The item that reserves a context name in its project (names are unique whatever their case). */
export function contextNameKey(projectId: string, name: string): string {
  return `context-name#${projectId}#${name.toLowerCase()}`;
}

/** A project's model endpoint, kept as the `model` attribute of its project item (its key sealed). */
const modelAttribute = z.object({
  baseUrl: text,
  model: text,
  api: z.enum(MODEL_APIS),
  sealedApiKey: text.optional(),
  updatedAt: millis,
});

export function modelToAttribute(m: ProjectModelRecord): Item {
  return {
    baseUrl: m.baseUrl,
    model: m.model,
    api: m.api,
    ...optional('sealedApiKey', m.sealedApiKey),
    updatedAt: m.updatedAt.getTime(),
  };
}

export function attributeToModel(projectId: string, attribute: Item): ProjectModelRecord {
  const m = parse(modelAttribute, 'project model', 'projectId', { projectId, ...attribute });
  return {
    projectId,
    baseUrl: m.baseUrl,
    model: m.model,
    api: m.api,
    ...optional('sealedApiKey', m.sealedApiKey),
    updatedAt: new Date(m.updatedAt),
  };
}
