import type { SessionEnding } from '@wallcrawler/contracts';
import type { SessionKeeps, SessionPlacementReport, SessionReporter } from '../task/session-reporter.js';
import type { SessionTable } from './session-table.js';

/** Reports a Fargate task's session to the DynamoDB sessions table, through the same transitions as the API. */
export class DynamoDbSessionReporter implements SessionReporter {
  /**
   * @param item the session's item as the caller just read it (consistently), which answers `isPending` and
   *   `keeps` once without reading it again (a claimed warm-pool task has it: one round trip less per read)
   */
  constructor(
    private readonly table: SessionTable,
    private readonly sessionId: string,
    private item?: Record<string, unknown>,
  ) {}

  /** The item the caller gave, once; then a fresh read. */
  async #read(): Promise<Record<string, unknown> | undefined> {
    return this.item ?? (await this.table.get(this.sessionId));
  }

  async isPending(): Promise<boolean> {
    return (await this.#read())?.status === 'PENDING';
  }

  /** The item as the RUNNING report left it (a claimed warm-pool task hands it to the API that pushed the claim). */
  runningItem: Record<string, unknown> | undefined;

  async running(placement: SessionPlacementReport): Promise<boolean> {
    this.runningItem = await this.table.markRunning(this.sessionId, new Date(), placement);
    return this.runningItem !== undefined;
  }

  async ended(ending: SessionEnding): Promise<void> {
    await this.table.end(this.sessionId, {
      status: ending.status,
      endedAt: ending.endedAt,
      endReason: ending.reason,
      ...(ending.startFailure ? { startFailure: ending.startFailure } : {}),
    });
    if (ending.proxyBytes !== undefined) await this.table.setProxyBytes(this.sessionId, ending.proxyBytes);
  }

  async keeps(): Promise<SessionKeeps> {
    const item = await this.#read();
    this.item = undefined;
    // Only `false` turns one off: the API writes the exceptions.
    return { logs: item?.logSession !== false, recording: item?.recordSession !== false };
  }

  async proxyBytes(bytes: number): Promise<void> {
    await this.table.setProxyBytes(this.sessionId, bytes);
  }
}
