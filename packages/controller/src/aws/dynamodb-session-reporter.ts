import type { SessionEnding } from '@wallcrawler/contracts';
import type { SessionPlacementReport, SessionReporter } from '../task/session-reporter.js';
import type { SessionTable } from './session-table.js';

/** Reports a Fargate task's session to the DynamoDB sessions table, through the same transitions as the API. */
export class DynamoDbSessionReporter implements SessionReporter {
  constructor(
    private readonly table: SessionTable,
    private readonly sessionId: string,
  ) {}

  async isPending(): Promise<boolean> {
    return (await this.table.get(this.sessionId))?.status === 'PENDING';
  }

  async running(placement: SessionPlacementReport): Promise<boolean> {
    return (await this.table.markRunning(this.sessionId, new Date(), placement)) !== undefined;
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

  async proxyBytes(bytes: number): Promise<void> {
    await this.table.setProxyBytes(this.sessionId, bytes);
  }
}
