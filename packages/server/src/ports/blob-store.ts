/**
 * The blob store's contract lives in `@wallcrawler/contracts` (the controller's tasks write blobs too); it is
 * re-exported here so the server's modules keep one import for their ports.
 */
export {
  assertBlobKey,
  assertBlobPrefix,
  type BlobBody,
  type BlobInfo,
  type BlobStore,
  InvalidBlobKeyError,
  type StoredBlob,
} from '@wallcrawler/contracts';
