import { S3BlobStore } from '@wallcrawler/controller/aws';
import { tempDir } from '@wallcrawler/test-support';
import { startS3rver } from '@wallcrawler/test-support/s3rver';
import { DiskBlobStore } from '../../src/adapters/disk/disk-blob-store.js';
import { describeBlobStoreContract } from './blob-store-contract.js';

describeBlobStoreContract('disk', async () => {
  const dir = tempDir('wallcrawler-blobs-');
  return { store: await DiskBlobStore.open(dir.path), dispose: async () => dir.remove() };
});

describeBlobStoreContract('S3 (s3rver)', async () => {
  const s3 = await startS3rver();
  // A small part size, so the large-object test really goes up in many parts.
  return {
    store: new S3BlobStore({ client: s3.client, bucket: s3.bucket, keyPrefix: 'wc/', partSize: 5 * 1024 * 1024 }),
    dispose: () => s3.stop(),
  };
});
