/**
 * `s3rver`, a fake S3 server, in a process of its own (so what it buffers never counts as the test's memory),
 * on a free loopback port with its own directory; and an S3 client configured the way it needs: path-style,
 * and checksums only when required, or streamed bodies are stored with their aws-chunked framing (see
 * toolchain-node20.md §3.2).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { BucketCorsRule } from './controller-image.js';
import { tempDir } from './index.js';

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  client: S3Client;
  stop(): Promise<void>;
}

const bin = join(dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin', 's3rver.js');
/** Makes s3rver accept the `local` access key too, which the AWS topology's processes use. */
const accounts = join(import.meta.dirname, 's3rver-accounts.cjs');

/**
 * Starts s3rver with `bucket`. `detached` puts it in a process group of its own, so that a terminal's Ctrl-C
 * reaches only the command that started it, which stops it after the tasks that still use it.
 */
export async function startS3rver({
  bucket = 'wallcrawler-test',
  timeout = 15_000,
  detached = false,
  cors = [],
}: {
  bucket?: string;
  timeout?: number;
  detached?: boolean;
  /** The bucket's CORS rules (the stack's, in the AWS topology). */
  cors?: BucketCorsRule[];
} = {}): Promise<LocalS3> {
  const dir = tempDir('s3rver-');
  // The bucket's configuration files, beside its data directory (which s3rver owns).
  const configDir = tempDir('s3rver-config-');
  const configs: string[] = [];
  if (cors.length > 0) {
    configs.push(join(configDir.path, 'cors.xml'));
    writeFileSync(join(configDir.path, 'cors.xml'), corsXml(cors));
  }
  const child = spawn(
    process.execPath,
    [
      ...['-r', accounts, bin, '-d', dir.path, '-a', '127.0.0.1', '-p', '0', '--silent'],
      ...['--configure-bucket', bucket, ...configs],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within ${timeout} ms:\n${output}`)), timeout);
    const onData = (data: Buffer) => {
      output += data;
      const match = /listening on [^:]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${code}) at start:\n${output}`));
    });
  }).catch(async (error) => {
    child.kill('SIGKILL');
    await exited;
    dir.remove();
    configDir.remove();
    throw error;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    bucket,
    client,
    async stop() {
      client.destroy();
      child.kill('SIGTERM');
      await exited;
      dir.remove();
      configDir.remove();
    },
  };
}

/** S3's XML for `rules` (PutBucketCors's body), which s3rver takes as a bucket's configuration file. */
function corsXml(rules: BucketCorsRule[]): string {
  const rule = (r: BucketCorsRule) =>
    [
      '<CORSRule>',
      ...r.AllowedOrigins.map((o) => `<AllowedOrigin>${o}</AllowedOrigin>`),
      ...r.AllowedMethods.map((m) => `<AllowedMethod>${m}</AllowedMethod>`),
      ...(r.MaxAge !== undefined ? [`<MaxAgeSeconds>${r.MaxAge}</MaxAgeSeconds>`] : []),
      '</CORSRule>',
    ].join('');
  return `<CORSConfiguration>${rules.map(rule).join('')}</CORSConfiguration>`;
}
