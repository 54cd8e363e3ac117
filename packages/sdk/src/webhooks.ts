/**
 * Verifying a Wallcrawler webhook delivery: its `x-wallcrawler-signature` header is
 * `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…]`, the HMAC of `<t>.<raw body>` keyed by the webhook's secret
 * (`whsec_…`, as UTF-8). During a secret rotation a delivery carries one `v1` per secret still signing. Uses only
 * Web Crypto, so it runs wherever the client does.
 *
 * @example
 * const event = await verifyWebhook({
 *   payload: rawBody, // the body exactly as received, before any JSON parsing
 *   signature: request.headers['x-wallcrawler-signature'],
 *   secret: process.env.WEBHOOK_SECRET,
 * });
 */

/** The header a delivery's signature travels in. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-wallcrawler-signature';

/** How far a delivery's timestamp may be from now, by default: 5 minutes. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

/** A session event as a webhook receives it (docs/webhooks.md). */
export interface WebhookEvent {
  id: string;
  type: 'session.created' | 'session.running' | 'session.ended';
  createdAt: string;
  projectId: string;
  data: {
    sessionId: string;
    status: string;
    /** Why the session ended (`session.ended` only). */
    reason?: string;
    session: {
      id: string;
      projectId: string;
      status: string;
      region: string;
      keepAlive: boolean;
      createdAt: string;
      startedAt: string;
      expiresAt: string;
      endedAt?: string;
      endReason?: string;
      userMetadata?: Record<string, unknown>;
    };
  };
}

export interface VerifyWebhookParams {
  /** The raw body as received (a string, or its bytes). */
  payload: string | Uint8Array;
  /** The `x-wallcrawler-signature` header's value. */
  signature: string | null | undefined;
  /** The webhook's secret; several while you move from one to the next. */
  secret: string | readonly string[] | undefined;
  /** @default 300 */
  toleranceSeconds?: number;
  /** The time to check the timestamp against, in ms. @default Date.now() */
  now?: number;
}

/** A delivery that does not verify: `reason` says why (never which secret). */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

/**
 * Checks a delivery's signature (in constant time, through `crypto.subtle.verify`) and its timestamp's freshness,
 * then parses it.
 * @returns the event
 * @throws WebhookVerificationError when the header is missing or malformed, the timestamp is outside the tolerance,
 *   or no signature matches a secret
 */
export async function verifyWebhook(params: VerifyWebhookParams): Promise<WebhookEvent> {
  const body = typeof params.payload === 'string' ? params.payload : new TextDecoder().decode(params.payload);
  const secrets = (typeof params.secret === 'string' ? [params.secret] : [...(params.secret ?? [])]).filter(Boolean);
  if (secrets.length === 0) throw new WebhookVerificationError('No webhook secret was given to verify with.');
  const { timestamp, signatures } = parseHeader(params.signature);
  const tolerance = params.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const now = (params.now ?? Date.now()) / 1000;
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookVerificationError(`The delivery's timestamp is more than ${tolerance} s from now.`);
  }
  const signed = new TextEncoder().encode(`${timestamp}.${body}`);
  for (const secret of secrets) {
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    for (const signature of signatures) {
      if (await crypto.subtle.verify('HMAC', key, signature, signed)) return JSON.parse(body) as WebhookEvent;
    }
  }
  throw new WebhookVerificationError('No signature of the delivery matches the secret.');
}

function parseHeader(header: string | null | undefined): { timestamp: number; signatures: Uint8Array<ArrayBuffer>[] } {
  if (!header) throw new WebhookVerificationError(`The delivery has no ${WEBHOOK_SIGNATURE_HEADER} header.`);
  let timestamp: number | undefined;
  const signatures: Uint8Array<ArrayBuffer>[] = [];
  for (const part of header.split(',')) {
    const [name, value = ''] = part.trim().split('=', 2);
    if (name === 't' && /^\d+$/.test(value)) timestamp = Number(value);
    // A SHA-256 is 32 bytes; anything else cannot match and is skipped.
    if (name === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(hexBytes(value));
  }
  if (timestamp === undefined) throw new WebhookVerificationError('The signature header has no timestamp (t=).');
  if (signatures.length === 0) throw new WebhookVerificationError('The signature header has no v1 signature.');
  return { timestamp, signatures };
}

function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
