import { type Logger, POOL_CLAIM_PATH } from '@wallcrawler/contracts';
import type { PoolTask } from '@wallcrawler/controller/aws';
import type { SessionRecord } from '../../domain/model.js';
import { itemToSession } from '../dynamodb/items.js';

/**
 * Tells a claimed warm-pool task which session claimed it (`POOL_CLAIM_PATH`, with a short connect token of the
 * session); the task answers once the session's start ended. A shortcut only: the polls find the claim without it.
 * @returns the session as the task's RUNNING report left it, or undefined when the store must say (the push
 *   failed, the start failed, or the task did not send the item)
 */
export async function pushClaim({
  sessionId,
  claimed,
  token,
  deadline,
  log,
}: {
  sessionId: string;
  claimed: PoolTask;
  token: string;
  deadline: number;
  log: Logger;
}): Promise<SessionRecord | undefined> {
  const base = claimed.connectEndpoint.replace(/^ws/, 'http');
  try {
    const response = await fetch(`${base}${POOL_CLAIM_PATH}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
    });
    if (!response.ok) {
      await response.body?.cancel();
      log.warn({ status: response.status }, 'the claimed task refused the push; polling');
      return undefined;
    }
    return runningFromAnswer(sessionId, await response.json());
  } catch (error) {
    log.warn({ err: String(error) }, 'the claimed task could not be told; polling');
    return undefined;
  }
}

/**
 * The RUNNING session in a claimed task's answer to its push, when the answer has one for `sessionId` this API can
 * read (the task's item is the sessions table's, which `itemToSession` parses).
 */
function runningFromAnswer(sessionId: string, answer: unknown): SessionRecord | undefined {
  const item = (answer as { session?: unknown } | null)?.session;
  if (!item || typeof item !== 'object') return undefined;
  try {
    const session = itemToSession(item as Record<string, unknown>);
    return session.id === sessionId && session.status === 'RUNNING' ? session : undefined;
  } catch {
    return undefined; // Not an item this API can read (another version's task): the store says.
  }
}
