import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import type { LargeAnswerMeta, LargeAnswers } from '../ports/large-answers.js';

export interface LargeAnswerOptions extends LargeAnswerMeta {
  /** Where the answer would be stored, given a fresh tag (see `largeAnswerKey`). */
  key: (tag: string) => string;
  /** Where oversized answers go; without it the body is streamed as it is. */
  large: LargeAnswers | undefined;
}

/**
 * Answers with `body`: as it is when it is small enough for the front door (or no `large` store is given), else
 * stored and redirected (307, `Location` a short-lived URL of it, which Browserbase's SDK and any fetch follow).
 * The body is read up to the limit first, so a small answer is never stored.
 */
export async function answerOrRedirect(c: Context, body: Readable, options: LargeAnswerOptions): Promise<Response> {
  const headers = {
    'content-type': options.contentType,
    ...(options.contentDisposition ? { 'content-disposition': options.contentDisposition } : {}),
  };
  if (!options.large) return c.body(Readable.toWeb(body) as ReadableStream, 200, headers);
  const { maxInlineBytes } = options.large;
  const head: Buffer[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) return c.body(Buffer.concat(head), 200, headers);
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
    head.push(chunk);
    size += chunk.length;
    if (size > maxInlineBytes) break;
  }
  // Too large: what was read, then the rest, into the store.
  const whole = Readable.from(
    (async function* () {
      yield* head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value as Buffer;
    })(),
  );
  const url = await options.large.store(options.key(randomUUID()), whole, options);
  return c.body(null, 307, { location: url, 'cache-control': 'no-store' });
}

/**
 * Answers with `value` as JSON, redirected to a stored copy like `answerOrRedirect` when it is too large for the
 * front door.
 */
export function jsonOrRedirect(
  c: Context,
  value: unknown,
  {
    key,
    large,
    headers = {},
  }: { key: (tag: string) => string; large: LargeAnswers | undefined; headers?: Record<string, string> },
): Promise<Response> | Response {
  const text = Buffer.from(JSON.stringify(value));
  if (!large || text.length <= large.maxInlineBytes) {
    return c.body(text, 200, { 'content-type': 'application/json', ...headers });
  }
  return answerOrRedirect(c, Readable.from([text]), { contentType: 'application/json', key, large });
}
