import type { ConnectTokenClaims } from '@wallcrawler/controller';

export type { ConnectTokenClaims };

/**
 * Signs and checks the tokens in `connectUrl`s. Locally the secret lives in the data dir; in AWS it comes
 * from Secrets Manager.
 */
export interface ConnectTokenSigner {
  /** Same claims and `issuedAt` give the same token. */
  sign(claims: ConnectTokenClaims, issuedAt?: Date): Promise<string>;
  /** @throws ConnectAuthError */
  verify(token: string | undefined): Promise<ConnectTokenClaims>;
}
