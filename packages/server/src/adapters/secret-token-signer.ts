import { webcrypto } from 'node:crypto';
import {
  type ConnectTokenClaims,
  signConnectToken,
  type TokenPurpose,
  verifyConnectToken,
} from '@wallcrawler/contracts';
import type { ConnectTokenSigner } from '../ports/connect-token-signer.js';

/** Signs connect tokens with an HS256 secret held in memory (from Secrets Manager in AWS, a file locally). */
export class SecretTokenSigner implements ConnectTokenSigner {
  /** The secret imported once as an HMAC key: importing it on every sign and verify cost as much as the HMAC. */
  readonly #key: Promise<webcrypto.CryptoKey>;

  constructor(protected readonly secret: Uint8Array) {
    if (secret.length < 32) throw new Error('The connect-token secret must be at least 32 bytes.');
    this.#key = webcrypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
  }

  async sign(claims: ConnectTokenClaims, issuedAt?: Date, purpose: TokenPurpose = 'connect'): Promise<string> {
    return signConnectToken(await this.#key, claims, { ...(issuedAt ? { issuedAt } : {}), purpose });
  }

  async verify(token: string | undefined, purpose: TokenPurpose = 'connect'): Promise<ConnectTokenClaims> {
    return verifyConnectToken(await this.#key, token, purpose);
  }
}
