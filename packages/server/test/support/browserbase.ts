/**
 * What the official `@browserbasehq/sdk` compat files share: the shapes of Browserbase's bodies
 * (reference/browserbase-api.md), checked field by field, and a project of a test's own with the SDK's client for it.
 */
import Browserbase from '@browserbasehq/sdk';
import type { TestServer } from '@wallcrawler/test-support/test-server';
import { expect } from 'vitest';
import { generateApiKey } from '../../src/api-keys.js';
import { newProject } from '../../src/bootstrap.js';
import type { ProjectRecord } from '../../src/domain/model.js';

const REGIONS = ['us-west-2', 'us-east-1', 'eu-central-1', 'ap-southeast-1'];
const STATUSES = ['PENDING', 'RUNNING', 'ERROR', 'TIMED_OUT', 'COMPLETED'];
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** `Session` (reference/browserbase-api.md §2.1): the required fields and their types, the optional ones' types. */
const SESSION_REQUIRED = {
  id: 'string',
  createdAt: 'date',
  updatedAt: 'date',
  startedAt: 'date',
  expiresAt: 'date',
  keepAlive: 'boolean',
  projectId: 'string',
  proxyBytes: 'integer',
  region: 'region',
  status: 'status',
} as const;
const SESSION_OPTIONAL = { endedAt: 'date', contextId: 'string', userMetadata: 'object' } as const;
const CONNECT_FIELDS = { connectUrl: 'string', seleniumRemoteUrl: 'string', signingKey: 'string' } as const;
export type Kind = 'string' | 'date' | 'boolean' | 'integer' | 'number' | 'region' | 'status' | 'object' | 'array';

export function hasKind(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'date':
      return typeof value === 'string' && ISO_DATE.test(value);
    case 'integer':
      return Number.isInteger(value);
    case 'region':
      return REGIONS.includes(value as string);
    case 'status':
      return STATUSES.includes(value as string);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    default:
      return typeof value === kind;
  }
}

/** Every required field present with its type, optional ones typed when present, and no other field. */
export function expectShape(
  value: unknown,
  required: Record<string, Kind>,
  optional: Record<string, Kind> = {},
  what = 'body',
): void {
  expect(hasKind(value, 'object'), `${what} is an object`).toBe(true);
  const body = value as Record<string, unknown>;
  for (const [field, kind] of Object.entries(required)) {
    expect(field in body, `${what}.${field} is present`).toBe(true);
    expect(hasKind(body[field], kind), `${what}.${field} is ${kind}, got ${JSON.stringify(body[field])}`).toBe(true);
  }
  for (const [field, kind] of Object.entries(optional)) {
    if (field in body) {
      expect(hasKind(body[field], kind), `${what}.${field} is ${kind}, got ${JSON.stringify(body[field])}`).toBe(true);
    }
  }
  const known = new Set([...Object.keys(required), ...Object.keys(optional)]);
  expect(
    Object.keys(body).filter((k) => !known.has(k)),
    `${what} has only known fields`,
  ).toEqual([]);
}

export const expectSession = (value: unknown, what = 'Session') =>
  expectShape(value, SESSION_REQUIRED, SESSION_OPTIONAL, what);
export const expectCreateResponse = (value: unknown) =>
  expectShape(value, { ...SESSION_REQUIRED, ...CONNECT_FIELDS }, SESSION_OPTIONAL, 'SessionCreateResponse');
export const expectRetrieveResponse = (value: unknown) =>
  expectShape(value, SESSION_REQUIRED, { ...SESSION_OPTIONAL, ...CONNECT_FIELDS }, 'SessionRetrieveResponse');
export const expectProject = (value: unknown) =>
  expectShape(
    value,
    {
      id: 'string',
      name: 'string',
      ownerId: 'string',
      createdAt: 'date',
      updatedAt: 'date',
      defaultTimeout: 'number',
      concurrency: 'number',
    },
    {},
    'Project',
  );
export function expectLiveUrls(value: unknown) {
  expectShape(
    value,
    { debuggerFullscreenUrl: 'string', debuggerUrl: 'string', wsUrl: 'string', pages: 'array' },
    {},
    'SessionLiveURLs',
  );
  for (const page of (value as { pages: unknown[] }).pages) {
    expectShape(
      page,
      {
        id: 'string',
        url: 'string',
        title: 'string',
        faviconUrl: 'string',
        debuggerUrl: 'string',
        debuggerFullscreenUrl: 'string',
      },
      {},
      'SessionLiveURLs.pages[]',
    );
  }
}

/**
 * A project of its own on `t`'s server, with `concurrency`, an API key that covers only it, and the official client
 * configured with only that key and the server's URL.
 */
export async function browserbaseProject(
  t: Pick<TestServer, 'store' | 'url'>,
  name: string,
  concurrency: number,
): Promise<{ project: ProjectRecord; key: string; client: Browserbase }> {
  const project = newProject(name, { concurrency });
  await t.store.createProject(project);
  const { key, record } = generateApiKey(name, [project.id]);
  await t.store.createApiKey(record);
  return { project, key, client: new Browserbase({ apiKey: key, baseURL: t.url }) };
}
