import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { SecretTokenSigner } from '../secret-token-signer.js';

/** Signs connect tokens with a secret kept in a file of the data dir, created (mode 0600) on first use. */
export class FileTokenSigner extends SecretTokenSigner {
  static load(path: string): FileTokenSigner {
    let secret: Buffer;
    try {
      secret = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
    } catch {
      secret = randomBytes(32);
      writeFileSync(path, `${secret.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    }
    if (secret.length < 32)
      throw new Error(`The connect-token secret in ${path} is too short; delete the file to generate a new one.`);
    return new FileTokenSigner(secret);
  }
}
