import type { Readable } from 'node:stream';

/** How a stored large answer is to be served. */
export interface LargeAnswerMeta {
  contentType: string;
  /** A `content-disposition` to serve it with (a zip's file name). */
  contentDisposition?: string;
}

/**
 * Where an answer too large for the API's front door goes (AWS: Lambda's buffered response holds 6 MB): it is
 * stored, and the client is redirected (307) to a short-lived URL of it. Without one (the local server), every
 * answer is streamed.
 */
export interface LargeAnswers {
  /** Answers with more bytes than this are stored and redirected. */
  readonly maxInlineBytes: number;
  /**
   * Stores `body` under `key` and returns a URL that serves it, valid for a few minutes.
   * @param key a blob key (see `largeAnswerKey`)
   */
  store(key: string, body: Readable, meta: LargeAnswerMeta): Promise<string>;
}
