import { randomUUID } from 'node:crypto';
import { Agent, request, STATUS_CODES } from 'node:http';
import { expectNothingLeft } from '@wallcrawler/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.js';
import { newProject } from '../../src/bootstrap.js';
import { sessionRecord } from '../support/records.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Every way a request can be wrong, over real HTTP against the app (`createApi`, served as the local server
 * serves it, over a real SQLite store, with browsers in memory): each answer has the right status, the one error
 * body (docs/architecture.md, "The contract") with a stable code, and nothing is ever a 5xx. None of these requests may start a browser, and none does.
 *
 * Placeholders in paths, headers and bodies are filled in once the server and its fixtures exist:
 * `{key}` the default project's key, `{otherKey}` another project's key, `{revokedKey}` a revoked key of the
 * default project, `{otherProject}` that other project, `{otherSession}` a session of the other project.
 */

interface Row {
  name: string;
  method: string;
  path: string;
  /** Sent as they are; `x-wc-api-key: {key}` is added unless `auth` is false or the row sets a key itself. */
  headers?: Record<string, string>;
  auth?: boolean;
  /** The raw body, sent as bytes: no Content-Type is implied. */
  body?: string;
  status: number;
  code: string;
  /** For 405s: the methods the `Allow` header must list. */
  allow?: string[];
  /** For validation failures: a `details[].path` that must be reported. */
  detail?: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const OVERSIZED = `{"userMetadata":{"padding":"${'x'.repeat(1024 * 1024)}"}}`;

// biome-ignore format: one request per line, so the table reads as a table.
const rows: Row[] = [
  // Bodies that are not JSON objects.
  { name: 'malformed JSON on create', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"timeout": 60,', status: 400, code: 'invalid_json' },
  { name: 'malformed JSON on update', method: 'POST', path: '/v1/sessions/{otherSession}', headers: JSON_TYPE, body: "{'status':'REQUEST_RELEASE'}", status: 400, code: 'invalid_json' },
  { name: 'a JSON array', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '[{"timeout":60}]', status: 400, code: 'validation_failed', detail: 'body' },
  { name: 'a JSON string', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '"timeout=60"', status: 400, code: 'validation_failed', detail: 'body' },
  { name: 'JSON null', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: 'null', status: 400, code: 'validation_failed', detail: 'body' },
  { name: 'a JSON number', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '42', status: 400, code: 'validation_failed', detail: 'body' },
  // Wrong types.
  { name: 'timeout as a string', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"timeout":"300"}', status: 400, code: 'validation_failed', detail: 'body.timeout' },
  { name: 'keepAlive as a string', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"keepAlive":"true"}', status: 400, code: 'validation_failed', detail: 'body.keepAlive' },
  { name: 'userMetadata as an array', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"userMetadata":["a","b"]}', status: 400, code: 'validation_failed', detail: 'body.userMetadata' },
  { name: 'userMetadata as a string', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"userMetadata":"a=b"}', status: 400, code: 'validation_failed', detail: 'body.userMetadata' },
  { name: 'viewport width as a string', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"browserSettings":{"viewport":{"width":"1280","height":720}}}', status: 400, code: 'validation_failed', detail: 'body.browserSettings.viewport.width' },
  { name: 'browserSettings as a string', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"browserSettings":"fast"}', status: 400, code: 'validation_failed', detail: 'body.browserSettings' },
  { name: 'region not one of the four', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"region":"us-west-1"}', status: 400, code: 'validation_failed', detail: 'body.region' },
  { name: 'projectId as a number', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"projectId":7}', status: 400, code: 'validation_failed', detail: 'body.projectId' },
  // Out of range.
  { name: 'timeout 59', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"timeout":59}', status: 400, code: 'validation_failed', detail: 'body.timeout' },
  { name: 'timeout 21601', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"timeout":21601}', status: 400, code: 'validation_failed', detail: 'body.timeout' },
  { name: 'timeout 1.5', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"timeout":1.5}', status: 400, code: 'validation_failed', detail: 'body.timeout' },
  { name: 'viewport width 99', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"browserSettings":{"viewport":{"width":99}}}', status: 400, code: 'validation_failed', detail: 'body.browserSettings.viewport.width' },
  { name: 'viewport height 4321', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"browserSettings":{"viewport":{"height":4321}}}', status: 400, code: 'validation_failed', detail: 'body.browserSettings.viewport.height' },
  // Updates.
  { name: 'status other than REQUEST_RELEASE', method: 'POST', path: '/v1/sessions/{otherSession}', headers: JSON_TYPE, body: '{"status":"COMPLETED"}', status: 400, code: 'validation_failed', detail: 'body.status' },
  { name: 'status in lower case', method: 'POST', path: '/v1/sessions/{otherSession}', headers: JSON_TYPE, body: '{"status":"request_release"}', status: 400, code: 'validation_failed', detail: 'body.status' },
  { name: 'update without status', method: 'POST', path: '/v1/sessions/{otherSession}', headers: JSON_TYPE, body: '{"projectId":"{otherProject}"}', status: 400, code: 'validation_failed', detail: 'body.status' },
  { name: 'update with an empty JSON body', method: 'POST', path: '/v1/sessions/{otherSession}', headers: JSON_TYPE, body: '', status: 400, code: 'validation_failed', detail: 'body.status' },
  // Media types.
  { name: 'text/plain body on create', method: 'POST', path: '/v1/sessions', headers: { 'content-type': 'text/plain' }, body: '{"timeout":60}', status: 415, code: 'unsupported_media_type' },
  { name: 'form-encoded body on create', method: 'POST', path: '/v1/sessions', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'timeout=60&keepAlive=true', status: 415, code: 'unsupported_media_type' },
  { name: 'form-encoded body on update', method: 'POST', path: '/v1/sessions/{otherSession}', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'status=REQUEST_RELEASE', status: 415, code: 'unsupported_media_type' },
  { name: 'a body without Content-Type', method: 'POST', path: '/v1/sessions', body: '{"timeout":60}', status: 415, code: 'unsupported_media_type' },
  // Unknown and foreign ids.
  { name: 'retrieve an unknown session', method: 'GET', path: '/v1/sessions/no-such-session', status: 404, code: 'session_not_found' },
  { name: 'release an unknown session', method: 'POST', path: '/v1/sessions/no-such-session', headers: JSON_TYPE, body: '{"status":"REQUEST_RELEASE"}', status: 404, code: 'session_not_found' },
  { name: 'debug an unknown session', method: 'GET', path: '/v1/sessions/no-such-session/debug', status: 404, code: 'session_not_found' },
  { name: "retrieve another project's session", method: 'GET', path: '/v1/sessions/{otherSession}', status: 404, code: 'session_not_found' },
  { name: "release another project's session", method: 'POST', path: '/v1/sessions/{otherSession}', headers: JSON_TYPE, body: '{"status":"REQUEST_RELEASE"}', status: 404, code: 'session_not_found' },
  { name: "debug another project's session", method: 'GET', path: '/v1/sessions/{otherSession}/debug?expiresIn=60', status: 404, code: 'session_not_found' },
  { name: 'retrieve a project the key does not cover', method: 'GET', path: '/v1/projects/{otherProject}', status: 404, code: 'project_not_found' },
  { name: 'usage of a project the key does not cover', method: 'GET', path: '/v1/projects/{otherProject}/usage', status: 404, code: 'project_not_found' },
  // Contexts, extensions and session artifacts.
  { name: 'a context name of 257 characters', method: 'POST', path: '/v1/contexts', headers: JSON_TYPE, body: `{"name":"${'n'.repeat(257)}"}`, status: 400, code: 'validation_failed', detail: 'body.name' },
  { name: 'a blank context name', method: 'POST', path: '/v1/contexts', headers: JSON_TYPE, body: '{"name":"   "}', status: 400, code: 'validation_failed', detail: 'body.name' },
  { name: 'a context name as a number', method: 'POST', path: '/v1/contexts', headers: JSON_TYPE, body: '{"name":7}', status: 400, code: 'validation_failed', detail: 'body.name' },
  { name: 'retrieve an unknown context', method: 'GET', path: '/v1/contexts/no-such-context', status: 404, code: 'context_not_found' },
  { name: 'update an unknown context', method: 'PUT', path: '/v1/contexts/no-such-context', headers: JSON_TYPE, body: '', status: 404, code: 'context_not_found' },
  { name: 'delete an unknown context', method: 'DELETE', path: '/v1/contexts/no-such-context', status: 404, code: 'context_not_found' },
  { name: 'a session from an unknown context', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"browserSettings":{"context":{"id":"no-such-context","persist":true}}}', status: 404, code: 'context_not_found' },
  { name: 'a session context without an id', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"browserSettings":{"context":{"persist":true}}}', status: 400, code: 'validation_failed', detail: 'body.browserSettings.context.id' },
  { name: 'persist as a string', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"browserSettings":{"context":{"id":"c","persist":"yes"}}}', status: 400, code: 'validation_failed', detail: 'body.browserSettings.context.persist' },
  { name: 'a session with an unknown extension', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"extensionId":"no-such-extension"}', status: 404, code: 'extension_not_found' },
  { name: 'logSession as a string', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"browserSettings":{"logSession":"no"}}', status: 400, code: 'validation_failed', detail: 'body.browserSettings.logSession' },
  { name: 'retrieve an unknown extension', method: 'GET', path: '/v1/extensions/no-such-extension', status: 404, code: 'extension_not_found' },
  { name: 'an extension as JSON', method: 'POST', path: '/v1/extensions', headers: JSON_TYPE, body: '{"file":"x"}', status: 415, code: 'unsupported_media_type' },
  { name: 'an extension form without a file', method: 'POST', path: '/v1/extensions', headers: { 'content-type': 'multipart/form-data; boundary=b' }, body: '--b\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--b--\r\n', status: 400, code: 'validation_failed', detail: 'form.file' },
  { name: "downloads of another project's session", method: 'GET', path: '/v1/sessions/{otherSession}/downloads', status: 404, code: 'session_not_found' },
  { name: "logs of another project's session", method: 'GET', path: '/v1/sessions/{otherSession}/logs', status: 404, code: 'session_not_found' },
  { name: "the recording of another project's session", method: 'GET', path: '/v1/sessions/{otherSession}/recording', status: 404, code: 'session_not_found' },
  { name: "replays of another project's session", method: 'GET', path: '/v1/sessions/{otherSession}/replays', status: 404, code: 'session_not_found' },
  { name: 'replays with expiresIn 10', method: 'GET', path: '/v1/sessions/{otherSession}/replays?expiresIn=10', status: 400, code: 'validation_failed', detail: 'query.expiresIn' },
  { name: "an upload to another project's session", method: 'POST', path: '/v1/sessions/{otherSession}/uploads', headers: { 'content-type': 'multipart/form-data; boundary=b' }, body: '--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nx\r\n--b--\r\n', status: 404, code: 'session_not_found' },
  { name: 'an upload as plain text', method: 'POST', path: '/v1/sessions/{otherSession}/uploads', headers: { 'content-type': 'text/plain' }, body: 'x', status: 415, code: 'unsupported_media_type' },
  { name: 'a replay page without a token', method: 'GET', path: '/replay/{otherSession}', auth: false, status: 401, code: 'missing_token' },
  { name: 'a replay page with a garbage token', method: 'GET', path: '/replay/{otherSession}/events?token=abc', auth: false, status: 401, code: 'invalid_token' },
  { name: 'dashboard logs without signing in', method: 'GET', path: '/dashboard/sessions/{otherSession}/logs', auth: false, status: 401, code: 'not_signed_in' },
  // The connect gateway's own routes (`/debug/…`, `/json/…`) are not the app's: controller/test/gateway.test.ts.
  // Keys.
  { name: 'no API key', method: 'GET', path: '/v1/sessions', auth: false, status: 401, code: 'missing_api_key' },
  { name: 'no API key, before validating the body', method: 'POST', path: '/v1/sessions', auth: false, headers: JSON_TYPE, body: '{"timeout":"x"}', status: 401, code: 'missing_api_key' },
  { name: 'an empty bearer token', method: 'GET', path: '/v1/projects', auth: false, headers: { authorization: 'Bearer ' }, status: 401, code: 'missing_api_key' },
  { name: 'a wrong x-wc-api-key', method: 'GET', path: '/v1/sessions', headers: { 'x-wc-api-key': 'wc_not_a_real_key_at_all' }, status: 401, code: 'invalid_api_key' },
  { name: 'a wrong X-BB-API-Key', method: 'GET', path: '/v1/projects', auth: false, headers: { 'X-BB-API-Key': 'bb_live_something' }, status: 401, code: 'invalid_api_key' },
  { name: 'a wrong bearer token', method: 'GET', path: '/v1/projects', auth: false, headers: { authorization: 'Bearer wc_wrong' }, status: 401, code: 'invalid_api_key' },
  { name: 'a revoked key', method: 'GET', path: '/v1/sessions', headers: { 'x-wc-api-key': '{revokedKey}' }, status: 401, code: 'revoked_api_key' },
  { name: 'a revoked key as X-BB-API-Key on create', method: 'POST', path: '/v1/sessions', auth: false, headers: { 'X-BB-API-Key': '{revokedKey}', ...JSON_TYPE }, body: '{}', status: 401, code: 'revoked_api_key' },
  // Projects the key does not cover.
  { name: 'x-wc-project-id of another project', method: 'GET', path: '/v1/sessions', headers: { 'x-wc-project-id': '{otherProject}' }, status: 403, code: 'project_not_allowed' },
  { name: 'x-wc-project-id of no project', method: 'POST', path: '/v1/sessions', headers: { 'x-wc-project-id': 'proj_nowhere', ...JSON_TYPE }, body: '{}', status: 403, code: 'project_not_allowed' },
  { name: 'x-wc-project-id of another project on a project route', method: 'GET', path: '/v1/projects', headers: { 'x-wc-project-id': '{otherProject}' }, status: 403, code: 'project_not_allowed' },
  { name: 'body projectId of another project on create', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"projectId":"{otherProject}","timeout":60}', status: 403, code: 'project_not_allowed' },
  { name: 'body projectId of another project on update', method: 'POST', path: '/v1/sessions/no-such-session', headers: JSON_TYPE, body: '{"status":"REQUEST_RELEASE","projectId":"{otherProject}"}', status: 403, code: 'project_not_allowed' },
  // Size.
  { name: 'a body over 1 MiB on create', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: OVERSIZED, status: 413, code: 'payload_too_large' },
  { name: 'a body over 1 MiB on update', method: 'POST', path: '/v1/sessions/no-such-session', headers: JSON_TYPE, body: OVERSIZED, status: 413, code: 'payload_too_large' },
  // Methods and routes.
  { name: 'DELETE /v1/sessions', method: 'DELETE', path: '/v1/sessions', status: 405, code: 'method_not_allowed', allow: ['GET', 'POST'] },
  { name: 'PUT /v1/sessions/{id}', method: 'PUT', path: '/v1/sessions/no-such-session', headers: JSON_TYPE, body: '{}', status: 405, code: 'method_not_allowed', allow: ['GET', 'POST'] },
  { name: 'PATCH /v1/sessions/{id}', method: 'PATCH', path: '/v1/sessions/{otherSession}', headers: JSON_TYPE, body: '{"status":"REQUEST_RELEASE"}', status: 405, code: 'method_not_allowed', allow: ['GET', 'POST'] },
  { name: 'POST /v1/sessions/{id}/debug', method: 'POST', path: '/v1/sessions/no-such-session/debug', status: 405, code: 'method_not_allowed', allow: ['GET'] },
  { name: 'POST /v1/projects', method: 'POST', path: '/v1/projects', headers: JSON_TYPE, body: '{"name":"p"}', status: 405, code: 'method_not_allowed', allow: ['GET'] },
  { name: 'DELETE /v1/projects/{id}', method: 'DELETE', path: '/v1/projects/{otherProject}', status: 405, code: 'method_not_allowed', allow: ['GET'] },
  { name: 'an unknown route under /v1', method: 'GET', path: '/v1/browsers', status: 404, code: 'not_found' },
  { name: 'a route one level too deep', method: 'GET', path: '/v1/sessions/no-such-session/debug/extra', status: 404, code: 'not_found' },
  { name: 'an unknown API version', method: 'GET', path: '/v2/sessions', auth: false, status: 404, code: 'not_found' },
  // Query strings.
  { name: 'q without user_metadata', method: 'GET', path: `/v1/sessions?q=${encodeURIComponent("metadata['a']:'b'")}`, status: 400, code: 'invalid_query' },
  { name: 'q with an unterminated string', method: 'GET', path: `/v1/sessions?q=${encodeURIComponent("user_metadata['a']:'b")}`, status: 400, code: 'invalid_query' },
  { name: 'q with an unquoted value', method: 'GET', path: `/v1/sessions?q=${encodeURIComponent("user_metadata['a']:b")}`, status: 400, code: 'invalid_query' },
  { name: 'status filter not in the enum', method: 'GET', path: '/v1/sessions?status=DONE', status: 400, code: 'validation_failed', detail: 'query.status' },
  { name: 'status filter in lower case', method: 'GET', path: '/v1/sessions?status=running', status: 400, code: 'validation_failed', detail: 'query.status' },
  { name: 'expiresIn 0', method: 'GET', path: '/v1/sessions/no-such-session/debug?expiresIn=0', status: 400, code: 'validation_failed', detail: 'query.expiresIn' },
  { name: 'expiresIn 21601', method: 'GET', path: '/v1/sessions/no-such-session/debug?expiresIn=21601', status: 400, code: 'validation_failed', detail: 'query.expiresIn' },
  { name: 'expiresIn 1.5', method: 'GET', path: '/v1/sessions/no-such-session/debug?expiresIn=1.5', status: 400, code: 'validation_failed', detail: 'query.expiresIn' },
  { name: 'expiresIn not a number', method: 'GET', path: '/v1/sessions/no-such-session/debug?expiresIn=soon', status: 400, code: 'validation_failed', detail: 'query.expiresIn' },
  { name: 'proxies as a string', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"proxies":"yes"}', status: 400, code: 'validation_failed', detail: 'body.proxies' },
  { name: 'a proxy of an unknown type', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"proxies":[{"type":"socks"}]}', status: 400, code: 'validation_failed', detail: 'body.proxies' },
  { name: 'a Browserbase-managed proxy', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"proxies":true}', status: 400, code: 'unsupported_field', detail: 'body.proxies' },
  { name: 'an allow-list of domains', method: 'POST', path: '/v1/sessions', headers: JSON_TYPE, body: '{"browserSettings":{"allowedDomains":["example.com"]}}', status: 400, code: 'unsupported_field', detail: 'body.browserSettings.allowedDomains' },
  { name: 'Stagehand start without a body', method: 'POST', path: '/v1/sessions/start', headers: JSON_TYPE, status: 400, code: 'validation_failed', detail: 'body.modelName' },
  { name: 'Stagehand start with malformed JSON', method: 'POST', path: '/v1/sessions/start', headers: JSON_TYPE, body: '{modelName:', status: 400, code: 'invalid_json' },
  { name: 'Stagehand start with a managed proxy', method: 'POST', path: '/v1/sessions/start', headers: JSON_TYPE, body: '{"modelName":"openai/gpt-4.1-mini","browserbaseSessionCreateParams":{"proxies":true}}', status: 400, code: 'unsupported_field' },
  { name: 'Stagehand start adopting an unknown session', method: 'POST', path: '/v1/sessions/start', headers: JSON_TYPE, body: '{"modelName":"openai/gpt-4.1-mini","browserbaseSessionID":"no-such-session"}', status: 404, code: 'session_not_found' },
  { name: 'Stagehand act on another project\'s session', method: 'POST', path: '/v1/sessions/{otherSession}/act', headers: { ...JSON_TYPE, 'x-stream-response': 'true' }, body: '{"input":"click"}', status: 404, code: 'session_not_found' },
  { name: 'Stagehand extract with a schema that is not an object', method: 'POST', path: '/v1/sessions/{otherSession}/extract', headers: JSON_TYPE, body: '{"schema":"price"}', status: 400, code: 'validation_failed', detail: 'body.schema' },
  { name: 'Stagehand end of an unknown session', method: 'POST', path: '/v1/sessions/no-such-session/end', status: 404, code: 'session_not_found' },
  { name: 'Stagehand replay of an unknown session', method: 'GET', path: '/v1/sessions/no-such-session/replay', status: 404, code: 'session_not_found' },
];

let server: TestApp;
let fixtures: Record<string, string>;
let census: Record<string, number>;

beforeAll(async () => {
  server = await startTestApp();
  const { store } = server;
  const other = newProject('other');
  await store.createProject(other);
  const otherKey = generateApiKey('other', [other.id]);
  await store.createApiKey(otherKey.record);
  const revoked = generateApiKey('revoked', [server.projectId]);
  await store.createApiKey(revoked.record);
  await store.revokeApiKey(revoked.record.id, new Date());
  // A finished session of the other project: only its row is needed, so no browser is started.
  const now = new Date();
  const otherSession = randomUUID();
  await store.insertSessionWithinLimit(
    sessionRecord(other.id, { id: otherSession, status: 'COMPLETED', endedAt: now, endReason: 'arranged by the test' }),
    other.concurrency,
  );
  fixtures = {
    key: server.apiKey,
    otherKey: otherKey.key,
    revokedKey: revoked.key,
    otherProject: other.id,
    otherSession,
  };
  census = server.census();
});

afterAll(async () => {
  await server?.close();
});

const fill = (text: string) =>
  text.replace(/\{(key|otherKey|revokedKey|otherProject|otherSession)\}/g, (_, name) => fixtures[name] as string);

async function send(row: Pick<Row, 'method' | 'path' | 'headers' | 'auth' | 'body'>): Promise<Response> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(row.headers ?? {})) headers[name] = fill(value);
  const setsKey = Object.keys(headers).some((h) =>
    ['x-wc-api-key', 'x-bb-api-key', 'authorization'].includes(h.toLowerCase()),
  );
  if (row.auth !== false && !setsKey) headers['x-wc-api-key'] = fixtures.key as string;
  return fetch(`${server.url}${fill(row.path)}`, {
    method: row.method,
    headers,
    ...(row.body !== undefined ? { body: new TextEncoder().encode(fill(row.body)) } : {}),
  });
}

describe('bad requests', () => {
  it('has a fixture whose owner can see it, so the 404s are scoping and not a broken row', async () => {
    const response = await send({
      method: 'GET',
      path: '/v1/sessions/{otherSession}',
      auth: false,
      headers: { 'x-wc-api-key': '{otherKey}' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: fixtures.otherSession, status: 'COMPLETED' });
  });

  it('covers at least 30 distinct rows', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });

  it.each(rows)('$name → $status $code', async (row) => {
    const response = await send(row);
    const text = await response.text();
    const where = `${row.method} ${row.path} → ${response.status} ${text.slice(0, 300)}`;

    expect(response.status, where).toBeLessThan(500);
    expect(response.status, where).toBe(row.status);
    expect(response.headers.get('content-type'), where).toMatch(/^application\/json/);

    const body = JSON.parse(text) as Record<string, unknown>;
    const requestId = response.headers.get('x-request-id');
    // Stagehand's routes add `success: false`, which Stagehand's clients read.
    const stagehand = /\/(start|act|extract|observe|navigate|agentExecute|end|replay)$/.test(row.path);
    expect(Object.keys(body).sort(), where).toEqual(
      [
        'code',
        'error',
        'message',
        'requestId',
        'statusCode',
        ...('details' in body ? ['details'] : []),
        ...(stagehand ? ['success'] : []),
      ].sort(),
    );
    if (stagehand) expect(body.success, where).toBe(false);
    expect(body.statusCode, where).toBe(row.status);
    expect(body.error, where).toBe(STATUS_CODES[row.status]);
    expect(body.code, where).toBe(row.code);
    expect(typeof body.message === 'string' && body.message.length > 0, where).toBe(true);
    expect(typeof body.requestId === 'string' && body.requestId.length > 0, where).toBe(true);
    expect(body.requestId, where).toBe(requestId);

    if ('details' in body) {
      expect(Array.isArray(body.details), where).toBe(true);
      for (const detail of body.details as unknown[]) {
        expect(detail, where).toEqual({ path: expect.any(String), message: expect.any(String) });
      }
    }
    if (row.detail) {
      expect(
        (body.details as { path: string }[] | undefined)?.map((d) => d.path),
        where,
      ).toContain(row.detail);
    }
    if (row.allow) {
      const allow = (response.headers.get('allow') ?? '')
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean);
      expect(allow.sort(), where).toEqual([...row.allow].sort());
    }
  });

  it('echoes a sane caller x-request-id in the header and the body', async () => {
    const response = await fetch(`${server.url}/v1/sessions/no-such-session`, {
      headers: { 'x-wc-api-key': server.apiKey, 'x-request-id': 'bad-requests-table.1' },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toBe('bad-requests-table.1');
    expect(((await response.json()) as { requestId: string }).requestId).toBe('bad-requests-table.1');
  });

  it('closes the connection after a 413, so a keep-alive client is not reset on its next request', async () => {
    // One socket, kept alive: without `Connection: close` the server drops it while the client reuses it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { hostname, port } = new URL(server.url);
    const call = (body?: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const bytes = body === undefined ? undefined : Buffer.from(body);
        const req = request(
          {
            host: hostname,
            port,
            path: '/v1/sessions',
            method: bytes ? 'POST' : 'GET',
            agent,
            headers: {
              'x-wc-api-key': server.apiKey,
              ...(bytes ? { 'content-type': 'application/json', 'content-length': bytes.length } : {}),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
          },
        );
        req.on('error', reject);
        req.end(bytes);
      });
    try {
      for (let i = 0; i < 2; i++) {
        expect(await call(OVERSIZED)).toEqual({ status: 413, connection: 'close' });
        expect((await call()).status).toBe(200);
      }
    } finally {
      agent.destroy();
    }
  });

  it('treats an empty q as no filter (what the Browserbase SDK sends for q: null)', async () => {
    const response = await fetch(`${server.url}/v1/sessions?q=`, { headers: { 'x-wc-api-key': server.apiKey } });
    expect(response.status).toBe(200);
  });

  it('still serves valid requests afterwards, and the failures left nothing behind', async () => {
    const headers = { 'x-wc-api-key': server.apiKey };
    const projects = await fetch(`${server.url}/v1/projects`, { headers });
    expect(projects.status).toBe(200);
    expect(((await projects.json()) as { id: string }[]).map((p) => p.id)).toEqual([server.projectId]);

    const list = await fetch(`${server.url}/v1/sessions`, { headers });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual([]);

    // No failed create made a row, and the arranged row is untouched.
    expect(await server.store.listSessions(server.projectId)).toEqual([]);
    const others = await server.store.listSessions(fixtures.otherProject as string);
    expect(others.map((s) => [s.id, s.status])).toEqual([[fixtures.otherSession, 'COMPLETED']]);
    // No browser was asked for, and the app holds nothing more in memory for sessions than before the table.
    expect(server.provider.started).toEqual([]);
    expect(server.provider.errors).toEqual([]);
    // (Its API-key cache holds the keys the table used: a bounded cache of keys, not of sessions.)
    const { apiKeyCache: _, ...now } = server.census();
    const { apiKeyCache: __, ...before } = census;
    expect(now).toEqual(before);
    await expectNothingLeft(server.dataDir);
  });
});
