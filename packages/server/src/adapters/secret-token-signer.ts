import {
  type ConnectTokenClaims,
  signConnectToken,
  type TokenPurpose,
  verifyConnectToken,
} from '@wallcrawler/controller';
import type { ConnectTokenSigner } from '../ports/connect-token-signer.js';

/** Signs connect tokens with an HS256 secret held in memory (from Secrets Manager in AWS, a file locally). */
export class SecretTokenSigner implements ConnectTokenSigner {
  constructor(protected readonly secret: Uint8Array) {
    if (secret.length < 32) throw new Error('The connect-token secret must be at least 32 bytes.');
  }

  sign(claims: ConnectTokenClaims, issuedAt?: Date, purpose: TokenPurpose = 'connect'): Promise<string> {
    return signConnectToken(this.secret, claims, { ...(issuedAt ? { issuedAt } : {}), purpose });
  }

  verify(token: string | undefined, purpose: TokenPurpose = 'connect'): Promise<ConnectTokenClaims> {
    return verifyConnectToken(this.secret, token, purpose);
  }
}
