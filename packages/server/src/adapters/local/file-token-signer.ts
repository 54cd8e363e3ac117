import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { type ConnectTokenClaims, signConnectToken, verifyConnectToken } from '@wallcrawler/controller';
import type { ConnectTokenSigner } from '../../ports/connect-token-signer.js';

/** Signs connect tokens with a secret kept in a file of the data dir, created (mode 0600) on first use. */
export class FileTokenSigner implements ConnectTokenSigner {
  private constructor(private readonly secret: Uint8Array) {}

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

  sign(claims: ConnectTokenClaims, issuedAt?: Date): Promise<string> {
    return signConnectToken(this.secret, claims, issuedAt ? { issuedAt } : {});
  }

  verify(token: string | undefined): Promise<ConnectTokenClaims> {
    return verifyConnectToken(this.secret, token);
  }
}
