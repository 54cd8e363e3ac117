import { S3Client } from '@aws-sdk/client-s3';

/**
 * The S3 client the API and the tasks use. With an `endpoint` (an emulator such as s3rver) it addresses
 * path-style and sends checksums only when an operation requires them: emulators store streamed bodies with
 * their aws-chunked framing otherwise.
 */
export function createS3Client({ region, endpoint }: { region: string; endpoint?: string | undefined }): S3Client {
  return new S3Client({
    region,
    ...(endpoint
      ? {
          endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
  });
}
