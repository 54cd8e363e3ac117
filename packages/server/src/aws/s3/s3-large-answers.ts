import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobStore } from '@wallcrawler/contracts';
import type { LargeAnswerMeta, LargeAnswers } from '../../ports/large-answers.js';

export interface S3LargeAnswersOptions {
  /** The blob bucket's store (`S3BlobStore`), which writes the answer (streamed, multipart). */
  blobs: BlobStore;
  /** The same bucket's client and name, to presign the answer's GET. */
  client: S3Client;
  bucket: string;
  /**
   * The most an answer is sent through the front door. Lambda's buffered response holds 6 MB, and a binary body
   * (a zip) travels base64-encoded in it: 4 MiB leaves room for that and the headers. @default 4 MiB
   */
  maxInlineBytes?: number;
  /** How long a redirect's URL works, in seconds. @default 300 */
  expiresInSeconds?: number;
}

/**
 * Large answers as S3 objects in the blob bucket (under the session artifacts' prefixes, so they expire with
 * them), served through presigned GET URLs: the client fetches the bytes from S3, not through Lambda.
 */
export class S3LargeAnswers implements LargeAnswers {
  readonly maxInlineBytes: number;
  readonly #blobs: BlobStore;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #expiresIn: number;

  constructor({
    blobs,
    client,
    bucket,
    maxInlineBytes = 4 * 1024 * 1024,
    expiresInSeconds = 300,
  }: S3LargeAnswersOptions) {
    this.#blobs = blobs;
    this.#client = client;
    this.#bucket = bucket;
    this.maxInlineBytes = maxInlineBytes;
    this.#expiresIn = expiresInSeconds;
  }

  async store(key: string, body: Readable, meta: LargeAnswerMeta): Promise<string> {
    await this.#blobs.put(key, body);
    return getSignedUrl(
      this.#client,
      new GetObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        ResponseContentType: meta.contentType,
        ...(meta.contentDisposition ? { ResponseContentDisposition: meta.contentDisposition } : {}),
      }),
      { expiresIn: this.#expiresIn },
    );
  }
}
