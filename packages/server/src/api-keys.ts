import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ApiKeyRecord } from './domain/model.js';

/** A new API key: the secret (shown once) and the record to store (which holds only its hash). */
export interface NewApiKey {
  key: string;
  record: ApiKeyRecord;
}

/**
 * SHA-256, hex. A fast hash is right here: keys are 192 random bits, so there is nothing to brute-force, and the
 * hash is computed on every request.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Makes a record for `key` (a generated one, or an operator-chosen one such as `WALLCRAWLER_API_KEY`). */
export function apiKeyRecord(key: string, name: string, projectIds: string[], now = new Date()): ApiKeyRecord {
  return {
    id: `key_${randomUUID()}`,
    name,
    hash: hashApiKey(key),
    prefix: key.slice(0, 7),
    projectIds,
    createdAt: now,
  };
}

/** Generates a key: `wc_` followed by 32 base64url characters. */
export function generateApiKey(name: string, projectIds: string[], now = new Date()): NewApiKey {
  const key = `wc_${randomBytes(24).toString('base64url')}`;
  return { key, record: apiKeyRecord(key, name, projectIds, now) };
}
