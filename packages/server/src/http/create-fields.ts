import type { Context } from 'hono';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';

/** What Wallcrawler does with a field of Browserbase's session create body. */
export type FieldTreatment = 'supported' | 'partly' | 'ignored' | 'refused';

/** What the server does with create fields it does not support: refuse them (the default), or accept and ignore them. */
export type UnsupportedFieldsMode = 'refuse' | 'ignore';

export interface CreateFieldRule {
  /** The field's path in the body, `browserSettings.blockAds`. */
  path: string;
  treatment: FieldTreatment;
  /** One line for the docs' compatibility table. */
  note: string;
  /**
   * Whether the value asks for something the server does not do; only such values are refused or reported. A
   * field supported `partly` is refused for these values, and does what Browserbase documents for the others.
   */
  asks?: (value: unknown) => boolean;
  /** For refused fields: what to do instead. */
  alternative?: string;
}

const isTrue = (v: unknown) => v === true;
const present = (v: unknown) => v !== undefined && v !== null && v !== false;

/** Proxy entries the server would have to route through Browserbase's network or a proxy of the caller's. */
function proxyEntries(value: unknown, type: string): boolean {
  return Array.isArray(value) && value.some((p) => typeof p === 'object' && p !== null && p.type === type);
}

/**
 * Every field of Browserbase's `SessionCreateParams` (SDK 2.21), with what Wallcrawler does with it. The docs'
 * compatibility table (`docs/compatibility.md`) lists exactly these; a test keeps the two in step.
 */
export const CREATE_FIELDS: readonly CreateFieldRule[] = [
  { path: 'projectId', treatment: 'supported', note: "Defaults to the key's project." },
  { path: 'timeout', treatment: 'supported', note: 'Seconds, 60 to 21600.' },
  { path: 'keepAlive', treatment: 'supported', note: 'The session outlives its clients until released or timed out.' },
  {
    path: 'region',
    treatment: 'supported',
    note: 'Recorded and returned; the browser runs where this server (or its ECS cluster) runs.',
  },
  { path: 'extensionId', treatment: 'supported', note: 'Loads an uploaded extension.' },
  { path: 'userMetadata', treatment: 'supported', note: 'Stored; queryable with `q`.' },
  {
    path: 'proxies',
    treatment: 'partly',
    note: 'Entries of type `external` (an HTTP proxy, `http://host:port`, with optional `username` and `password`) and `none`, each for the hosts its `domainPattern` matches (a regular expression over the whole host name; all hosts without one; hosts no entry matches go straight out). The proxy is checked at create: wrong credentials are a 400 `proxy_auth_failed`, an unreachable proxy a 502 `proxy_unreachable`. `proxyBytes` counts the bytes through these proxies. `true`, or an entry of type `browserbase`, is refused.',
    asks: (v) => v === true || proxyEntries(v, 'browserbase'),
    alternative:
      'Browserbase\'s managed proxies do not exist on a self-hosted server: give a proxy of your own (`{"type": "external", "server": "http://host:port", "username": …, "password": …}`), or leave `proxies` out',
  },
  {
    path: 'proxySettings',
    treatment: 'ignored',
    note: 'CA certificates for proxies: Chromium checks certificates against its own store.',
    asks: present,
  },
  { path: 'browserSettings.viewport', treatment: 'supported', note: 'Width and height in CSS pixels.' },
  { path: 'browserSettings.context', treatment: 'supported', note: 'Starts from a context; `persist` saves it back.' },
  { path: 'browserSettings.extensionId', treatment: 'supported', note: 'Same as the top-level `extensionId`.' },
  { path: 'browserSettings.logSession', treatment: 'supported', note: '`false` turns the CDP log off.' },
  { path: 'browserSettings.recordSession', treatment: 'supported', note: '`false` turns the rrweb recording off.' },
  {
    path: 'browserSettings.allowedDomains',
    treatment: 'refused',
    note: 'A non-empty list is refused: pages could reach domains outside it. An empty list means no restriction.',
    asks: (v) => Array.isArray(v) && v.length > 0,
    alternative:
      "enforce the list in your client (Playwright's `page.route`, or CDP `Fetch.enable` with patterns) and leave `allowedDomains` out",
  },
  {
    path: 'browserSettings.ignoreCertificateErrors',
    treatment: 'refused',
    note: '`true` is refused: pages with bad certificates would fail to load.',
    asks: isTrue,
    alternative:
      'send CDP `Security.setIgnoreCertificateErrors {"ignore": true}` after connecting, and leave the field out',
  },
  { path: 'browserSettings.advancedStealth', treatment: 'ignored', note: 'No stealth mode.', asks: isTrue },
  { path: 'browserSettings.verified', treatment: 'ignored', note: 'No verified browsers.', asks: isTrue },
  { path: 'browserSettings.blockAds', treatment: 'ignored', note: 'Ads are not blocked.', asks: isTrue },
  { path: 'browserSettings.solveCaptchas', treatment: 'ignored', note: 'Captchas are not solved.', asks: isTrue },
  {
    path: 'browserSettings.captchaImageSelector',
    treatment: 'ignored',
    note: 'Captchas are not solved.',
    asks: present,
  },
  {
    path: 'browserSettings.captchaInputSelector',
    treatment: 'ignored',
    note: 'Captchas are not solved.',
    asks: present,
  },
  { path: 'browserSettings.fingerprint', treatment: 'ignored', note: 'No fingerprint generation.', asks: present },
  { path: 'browserSettings.os', treatment: 'ignored', note: "The browser reports the host's OS.", asks: present },
];

/** The response header that lists the create fields the server accepted and ignored. */
export const IGNORED_FIELDS_HEADER = 'x-wallcrawler-ignored-fields';

/** Fields besides Browserbase's that Wallcrawler's clients send and that are handled elsewhere. */
const KNOWN_TOP = new Set(CREATE_FIELDS.filter((f) => !f.path.includes('.')).map((f) => f.path));
const KNOWN_SETTINGS = new Set(
  CREATE_FIELDS.filter((f) => f.path.startsWith('browserSettings.')).map((f) => f.path.slice(16)),
);
KNOWN_TOP.add('browserSettings');

function valueAt(body: Record<string, unknown>, path: string): unknown {
  let value: unknown = body;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export interface CreateFieldReview {
  /** Fields the server accepts without doing what they ask, and unknown fields; for the response header. */
  ignored: string[];
}

/**
 * Checks a session create body against `CREATE_FIELDS`.
 * @throws ApiError 400 `unsupported_field` naming every refused field and its alternative (unless `mode` is
 *   `ignore`, which reports them as ignored instead)
 */
export function reviewCreateFields(body: Record<string, unknown>, mode: UnsupportedFieldsMode): CreateFieldReview {
  const ignored: string[] = [];
  const refused: { path: string; message: string }[] = [];
  for (const rule of CREATE_FIELDS) {
    if (rule.treatment === 'supported' || !rule.asks) continue;
    const value = valueAt(body, rule.path);
    if (value === undefined || !rule.asks(value)) continue;
    if ((rule.treatment === 'refused' || rule.treatment === 'partly') && mode === 'refuse') {
      refused.push({ path: `body.${rule.path}`, message: `not supported: ${rule.alternative}.` });
    } else {
      ignored.push(rule.path);
    }
  }
  for (const key of Object.keys(body)) if (!KNOWN_TOP.has(key)) ignored.push(key);
  const settings = body.browserSettings;
  if (typeof settings === 'object' && settings !== null) {
    for (const key of Object.keys(settings)) if (!KNOWN_SETTINGS.has(key)) ignored.push(`browserSettings.${key}`);
  }
  if (refused.length > 0) {
    const summary = refused.map((r) => `${r.path.slice(5)} is ${r.message}`).join(' ');
    throw new ApiError(
      400,
      'unsupported_field',
      `${summary} (An operator can accept and ignore such fields with WALLCRAWLER_UNSUPPORTED_FIELDS=ignore.)`,
      refused,
    );
  }
  return { ignored };
}

/** Names the ignored fields in the response header and logs them once for the session. */
export function announceIgnored(c: Context<AppEnv>, sessionId: string, ignored: readonly string[]): void {
  if (ignored.length === 0) return;
  c.header(IGNORED_FIELDS_HEADER, ignored.join(', '));
  c.var.logger.info({ sessionId, ignoredFields: ignored }, 'session created; fields ignored');
}
