import { ConnectAuthError } from '@wallcrawler/contracts';
import type { ConnectAuthenticator } from '@wallcrawler/controller';
import { hashApiKey } from '../api-keys.js';
import type { ConnectTokenSigner } from '../ports/connect-token-signer.js';
import type { Store } from '../ports/store.js';

/**
 * Who may connect to which session through the local gateway: the holder of the session's connect token, or
 * (Browserbase's legacy form) the holder of an API key covering the session's project, with `?sessionId=`.
 */
export function localConnectAuthenticator(signer: ConnectTokenSigner, store: Store): ConnectAuthenticator {
  return async ({ signingKey, apiKey, sessionId }) => {
    if (signingKey || !apiKey) {
      const claims = await signer.verify(signingKey);
      if (sessionId && sessionId !== claims.sessionId) {
        throw new ConnectAuthError(403, 'token_session_mismatch', 'This connect token belongs to another session.');
      }
      return claims.sessionId;
    }
    if (!sessionId) {
      throw new ConnectAuthError(
        400,
        'missing_session_id',
        'The apiKey form needs the session too: ?apiKey=<key>&sessionId=<id>.',
      );
    }
    const key = await store.findApiKeyByHash(hashApiKey(apiKey));
    if (!key || key.revokedAt)
      throw new ConnectAuthError(401, 'invalid_api_key', 'The API key is not valid or has been revoked.');
    const session = await store.getSession(sessionId);
    if (!session || !key.projectIds.includes(session.projectId)) {
      throw new ConnectAuthError(404, 'session_not_found', `Session ${sessionId} was not found.`);
    }
    return sessionId;
  };
}
