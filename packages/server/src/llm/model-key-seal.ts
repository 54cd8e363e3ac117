import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * A project's model API key as the store keeps it: AES-256-GCM under a key derived (HKDF) from the contexts' key
 * (the data dir's `context-key` locally, its Secrets Manager secret on AWS), bound to the project's id, so a
 * sealed value copied onto another project does not open. The store, a backup or a table scan never shows the
 * key itself.
 */

const VERSION = 'v1';
const INFO = 'wallcrawler model api key v1';

function keyFrom(secret: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), INFO, 32));
}

/** `apiKey` sealed for `projectId`: `v1.<base64url of iv, tag and ciphertext>`. */
export function sealModelKey(secret: Uint8Array, projectId: string, apiKey: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFrom(secret), iv);
  cipher.setAAD(Buffer.from(projectId));
  const sealed = Buffer.concat([cipher.update(apiKey, 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
}

/**
 * The key `sealModelKey` sealed for `projectId`.
 * @throws Error when the value is not one, was sealed for another project or under another key, or was altered
 */
export function openModelKey(secret: Uint8Array, projectId: string, sealed: string): string {
  const [version, body] = sealed.split('.');
  if (version !== VERSION || !body) throw new Error('The sealed model key is not in a known format.');
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.length < 12 + 16) throw new Error('The sealed model key is truncated.');
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFrom(secret), bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(projectId));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('The sealed model key does not open with this server key for this project.');
  }
}
