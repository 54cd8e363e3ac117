import type { webcrypto } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

/** The `iss` of every token Wallcrawler signs. */
export const TOKEN_ISSUER = 'wallcrawler';
/**
 * What a token is for: `connect` lets its holder drive the session over CDP; `view` only lets them watch what
 * was recorded (a replay page); `dashboard` is a person's sign-in to the dashboard (its subject is an API key's
 * hash, not a session). Each is its own JWT audience, so one can never stand in for another.
 */
export type TokenPurpose = 'connect' | 'view' | 'dashboard';
/** Each purpose's JWT audience. */
export const TOKEN_AUDIENCES: Readonly<Record<TokenPurpose, string>> = {
  connect: 'wallcrawler:connect',
  view: 'wallcrawler:view',
  dashboard: 'wallcrawler:dashboard',
};
const ALGORITHM = 'HS256';

/** What a connect token says. */
export interface ConnectTokenClaims {
  sessionId: string;
  projectId: string;
  /** The token stops working at this moment; for a session's own token, its `expiresAt`. */
  expiresAt: Date;
}

export interface SignOptions {
  /**
   * The token's `iat`. Signing the same claims with the same `issuedAt` gives the same token, so a session's
   * `signingKey` can be re-derived (from its `createdAt`) instead of stored.
   * @default now
   */
  issuedAt?: Date;
  /** @default 'connect' */
  purpose?: TokenPurpose;
}

/** Why a connect credential was refused, as an HTTP status and a stable code. */
export class ConnectAuthError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 410,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectAuthError';
  }
}

/**
 * Signs the token that goes in a session's `connectUrl` (`?signingKey=`). It is bound to one session (`sub`),
 * names its audience and issuer, and expires with the session.
 */
export async function signConnectToken(
  secret: Uint8Array | webcrypto.CryptoKey,
  claims: ConnectTokenClaims,
  { issuedAt, purpose = 'connect' }: SignOptions = {},
): Promise<string> {
  return new SignJWT({ prj: claims.projectId })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCES[purpose])
    .setSubject(claims.sessionId)
    .setIssuedAt(issuedAt ? Math.floor(issuedAt.getTime() / 1000) : undefined)
    .setExpirationTime(Math.floor(claims.expiresAt.getTime() / 1000))
    .sign(secret);
}

/**
 * Checks a connect token's signature, issuer, audience and expiry.
 * @throws ConnectAuthError 401 for a missing, malformed, tampered or expired token.
 */
export async function verifyConnectToken(
  secret: Uint8Array | webcrypto.CryptoKey,
  token: string | undefined,
  purpose: TokenPurpose = 'connect',
): Promise<ConnectTokenClaims> {
  if (!token)
    throw new ConnectAuthError(
      401,
      'missing_token',
      "A connect token is required: connect to the session's connectUrl, which carries it as ?signingKey=.",
    );
  try {
    const { payload } = await jwtVerify(token, secret, {
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCES[purpose],
      algorithms: [ALGORITHM],
    });
    if (typeof payload.sub !== 'string' || typeof payload.prj !== 'string' || typeof payload.exp !== 'number') {
      throw new ConnectAuthError(401, 'invalid_token', 'The connect token is missing its session claims.');
    }
    return { sessionId: payload.sub, projectId: payload.prj, expiresAt: new Date(payload.exp * 1000) };
  } catch (error) {
    if (error instanceof ConnectAuthError) throw error;
    if (error instanceof errors.JWTExpired) {
      throw new ConnectAuthError(
        401,
        'token_expired',
        'The connect token has expired: the session it belongs to has timed out.',
      );
    }
    throw new ConnectAuthError(
      401,
      'invalid_token',
      'The connect token is not valid. Use the connectUrl returned for the session.',
    );
  }
}
