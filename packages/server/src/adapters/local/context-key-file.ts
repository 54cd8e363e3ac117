import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The contexts' key kept in a file of the data dir, created (mode 0600) on first use. Losing the file makes
 * every saved context unreadable: back it up with the data dir, or give the key in `WALLCRAWLER_CONTEXT_KEY`.
 */
export function loadContextKeyFile(path: string): Buffer {
  let key: Buffer;
  try {
    key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  } catch {
    key = randomBytes(32);
    writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  if (key.length !== 32) throw new Error(`The context key in ${path} is not 32 bytes of base64.`);
  return key;
}
