import type { ConnectTokenClaims, TokenPurpose } from '@wallcrawler/contracts';

export type { ConnectTokenClaims, TokenPurpose };

/**
 * Signs and checks the tokens in `connectUrl`s. Locally the secret lives in the data dir; in AWS it comes
 * from Secrets Manager.
 */
export interface ConnectTokenSigner {
  /** Same claims, `issuedAt` and purpose give the same token. @param purpose @default 'connect' */
  sign(claims: ConnectTokenClaims, issuedAt?: Date, purpose?: TokenPurpose): Promise<string>;
  /** @throws ConnectAuthError, also for a token of another purpose */
  verify(token: string | undefined, purpose?: TokenPurpose): Promise<ConnectTokenClaims>;
}
