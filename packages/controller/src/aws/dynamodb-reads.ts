import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';

/**
 * What the DynamoDB code of the API and the controller share besides the tables: reading every page of a query
 * or scan, and telling DynamoDB's refusals apart.
 */

type Item = Record<string, unknown>;

/** Every item a query matches, following `LastEvaluatedKey` page by page. */
export async function queryAll<T = Item>(db: DynamoDBDocumentClient, input: QueryCommandInput): Promise<T[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await db.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items as T[];
}

/** Every item a scan returns, page by page. */
export async function scanAll(db: DynamoDBDocumentClient, input: ScanCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await db.send(new ScanCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A single write's condition did not hold. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** The reasons DynamoDB gave for cancelling a transaction, one per item in order ('None' where it had none). */
export function cancellationReasons(error: unknown): string[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

/** A transaction lost a race with another on the same items; the same one may succeed at once. */
export function isTransactionConflict(error: unknown): boolean {
  return (
    cancellationReasons(error)?.includes('TransactionConflict') === true ||
    (error as Error | undefined)?.name === 'TransactionConflictException'
  );
}
