/**
 * @module
 * `@wallcrawler/server`: the Browserbase-compatible API as a Hono app (`createApp`), its ports and the
 * embedded adapters; it loads no AWS SDK. `@wallcrawler/server/node` starts the whole local server (the `wallcrawler`
 * CLI wraps that); `@wallcrawler/server/aws` has the AWS adapters and the Lambda handlers.
 */

export { SERVER_ENV } from '@wallcrawler/contracts';
export { DiskBlobStore } from './adapters/disk/disk-blob-store.js';
export { FileTokenSigner } from './adapters/local/file-token-signer.js';
export { LocalBrowserProvider, type LocalBrowserProviderOptions } from './adapters/local/local-browser-provider.js';
export { SqliteStore } from './adapters/sqlite/sqlite-store.js';
export { generateApiKey, hashApiKey, type NewApiKey } from './api-keys.js';
export { type AppDeps, createApp } from './app.js';
export { type BootstrapResult, bootstrap, newProject } from './bootstrap.js';
export { loadServerConfig, type ServerConfig } from './config.js';
export * as domainErrors from './domain/errors.js';
export type { ApiKeyRecord, ProjectRecord, Region, SessionRecord, SessionStatus, Viewport } from './domain/model.js';
export type { AppEnv, AuthContext } from './http/app-env.js';
export {
  assertBlobKey,
  type BlobBody,
  type BlobInfo,
  type BlobStore,
  type StoredBlob,
} from './ports/blob-store.js';
export type { BrowserProvider, BrowserStartRequest } from './ports/browser-provider.js';
export type { ConnectTokenSigner } from './ports/connect-token-signer.js';
export type { MetadataCondition, SessionEnd, SessionFilter, Store } from './ports/store.js';
export { VERSION } from './version.js';
