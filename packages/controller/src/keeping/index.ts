/**
 * What a session keeps in, and reads from, the blob store: one implementation for the local server and for the
 * Fargate task. One file per concern.
 */
export { type ContextProfileOptions, hydrateProfile, parseContextKey, persistProfile } from './context-profile.js';
export { finishedDownloads, keepDownloads } from './downloads.js';
export {
  ExtensionArchiveError,
  type ExtensionManifest,
  type ExtensionZipLimits,
  inspectExtensionZip,
  unpackExtensionZip,
  unpackStoredExtension,
} from './extension-archive.js';
export { keepSessionLog, keepSessionRecording } from './session-artifacts.js';
