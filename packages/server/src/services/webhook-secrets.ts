import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const INFO = 'wallcrawler webhook secrets v1';

/** A new signing secret, `whsec_` and 32 random bytes in base64url, as Browserbase's look. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * Webhooks' signing secrets, sealed at rest: AES-256-GCM under a key derived (HKDF) from the server's contexts key,
 * and bound to the webhook's id, so a sealed secret copied to another webhook does not open.
 */
export class WebhookSecrets {
  readonly #source: Buffer | (() => Promise<Buffer>);
  #key: Promise<Buffer> | undefined;

  constructor(source: Buffer | (() => Promise<Buffer>)) {
    this.#source = source;
  }

  async seal(webhookId: string, secret: string): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.#derived(), iv);
    cipher.setAAD(Buffer.from(webhookId));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
  }

  /** @throws Error when the value was not sealed for this webhook under this key */
  async open(webhookId: string, sealed: string): Promise<string> {
    const [version, body] = sealed.split('.');
    if (version !== VERSION || !body) throw new Error('The sealed webhook secret is not in a known format.');
    const bytes = Buffer.from(body, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', await this.#derived(), bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(webhookId));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`The sealed secret of webhook ${webhookId} does not open with this key.`);
    }
  }

  #derived(): Promise<Buffer> {
    this.#key ??= (async () => {
      const key = typeof this.#source === 'function' ? await this.#source() : this.#source;
      return Buffer.from(hkdfSync('sha256', key, new Uint8Array(0), INFO, 32));
    })();
    return this.#key;
  }
}
