import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretTokenSigner } from '../../adapters/secret-token-signer.js';
import type { ConnectTokenClaims, ConnectTokenSigner, TokenPurpose } from '../../ports/connect-token-signer.js';
import { reportUnavailable } from '../dependency-errors.js';

/** How the API function's clients wait for an AWS service before calling it unreachable. */
export const AWS_REQUEST_HANDLER = { connectionTimeout: 3_000, requestTimeout: 10_000 } as const;

/**
 * `load`, run on first use and its result kept; a failure is not kept, so the next use tries again. The connect
 * secret is read this way so that a request that needs no secret (no key, a wrong key, `/health`) is answered
 * even when Secrets Manager cannot be reached, and one that needs it gets a 503 of ours.
 */
export function keptOnSuccess<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/**
 * Reads the text of the secret `arn`.
 * @throws DependencyUnavailableError when Secrets Manager cannot be reached or fails
 */
export async function readSecretString(arn: string, region: string): Promise<string> {
  const client = reportUnavailable(
    new SecretsManagerClient({ region, requestHandler: AWS_REQUEST_HANDLER }),
    'Secrets Manager',
    { answered: true },
  );
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    return SecretString ?? '';
  } finally {
    client.destroy();
  }
}

/**
 * Reads the connect secret `arn` (64 characters, base64url, as the stack generates it).
 * @throws DependencyUnavailableError when Secrets Manager cannot be reached or fails
 * @throws Error when the secret is too short (a deployment mistake: a 500)
 */
export async function readConnectSecret(arn: string, region: string): Promise<Uint8Array> {
  const secret = Buffer.from((await readSecretString(arn, region)).trim(), 'base64url');
  if (secret.length < 32) throw new Error(`The secret ${arn} must hold 32 bytes or more, base64url`);
  return secret;
}

/** A `SecretTokenSigner` over a secret that is read on first use. */
export class LazySecretTokenSigner implements ConnectTokenSigner {
  readonly #signer: () => Promise<SecretTokenSigner>;

  constructor(secret: () => Promise<Uint8Array>) {
    this.#signer = keptOnSuccess(async () => new SecretTokenSigner(await secret()));
  }

  async sign(claims: ConnectTokenClaims, issuedAt?: Date, purpose?: TokenPurpose): Promise<string> {
    return (await this.#signer()).sign(claims, issuedAt, purpose);
  }

  async verify(token: string | undefined, purpose?: TokenPurpose): Promise<ConnectTokenClaims> {
    return (await this.#signer()).verify(token, purpose);
  }
}
