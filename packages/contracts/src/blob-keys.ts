/**
 * Where each kind of blob lives in the blob store (a directory locally, the S3 bucket on AWS). The server
 * writes and reads them by these keys, and the CDK stack expires the session artifacts' prefixes, so the
 * lifecycle rules always match what is written.
 */

/** A context's sealed profile archive. Kept until the context is deleted. */
export const contextArchiveKey = (contextId: string): string => `contexts/${contextId}/profile.tar.gz.enc`;

/** An uploaded extension's zip. Kept until the extension is deleted. */
export const extensionZipKey = (extensionId: string): string => `extensions/${extensionId}/extension.zip`;

/** Every blob of a session's downloads starts with this. */
export const downloadsPrefix = (sessionId: string): string => `downloads/${sessionId}/`;

/** One downloaded file. File names are the browser's (any characters): keys carry them base64url-encoded. */
export const downloadFileKey = (sessionId: string, fileName: string): string =>
  `${downloadsPrefix(sessionId)}f${Buffer.from(fileName).toString('base64url')}`;

/** The downloads a session cancelled, and why. */
export const downloadErrorsKey = (sessionId: string): string => `${downloadsPrefix(sessionId)}errors.json`;

/** A session's CDP log. */
export const sessionLogKey = (sessionId: string): string => `logs/${sessionId}.json`;

/** A session's rrweb recording. */
export const sessionRecordingKey = (sessionId: string): string => `recordings/${sessionId}.json`;

/**
 * The prefixes of sessions' artifacts (downloads, logs, recordings): kept until the retention limits locally,
 * expired by the bucket's lifecycle rules on AWS. Contexts and extensions are the user's own and never expire.
 */
export const SESSION_ARTIFACT_PREFIXES = ['downloads/', 'logs/', 'recordings/'] as const;

/**
 * An answer of the API too large for its front door (Lambda's buffered 6 MB), stored for a redirect to a
 * short-lived URL of it (AWS): beside the session's artifacts under their prefix (so the bucket's lifecycle rule
 * expires it with them), never inside `downloadsPrefix` (whose blobs are the session's files).
 */
export const largeAnswerKey = (
  prefix: 'downloads' | 'logs' | 'recordings',
  sessionId: string,
  tag: string,
  extension: 'zip' | 'json',
): string => `${prefix}/${sessionId}.answer-${tag}.${extension}`;
