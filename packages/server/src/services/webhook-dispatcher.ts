import { randomUUID } from 'node:crypto';
import { type Logger, silentLogger } from '@wallcrawler/contracts';
import type { Census } from '../census.js';
import { SIGNATURE_HEADER, signatureHeader, type WebhookRecord } from '../domain/webhook.js';
import type { SessionEvent, SessionEvents } from '../ports/session-events.js';
import type { Store } from '../ports/store.js';
import { webhookEventBody } from './webhook-body.js';
import type { WebhookSecrets } from './webhook-secrets.js';
import type { WebhookTargets } from './webhook-targets.js';

export interface WebhookDeliveryOptions {
  /** Tries per delivery, the first included. @default 5 */
  maxAttempts?: number;
  /** The wait before the first retry; each next one doubles it (capped at 10 minutes). @default 2_000 */
  retryBaseMs?: number;
  /** How long one attempt may take, connect to answer. @default 10_000 */
  attemptTimeoutMs?: number;
}

export interface WebhookDispatcherOptions extends WebhookDeliveryOptions {
  store: Store;
  secrets: WebhookSecrets;
  targets: WebhookTargets;
  logger?: Logger;
  census?: Census | undefined;
}

interface Delivery {
  webhook: WebhookRecord;
  eventId: string;
  event: SessionEvent;
  body: string;
  attempt: number;
}

/**
 * Delivers session events to the project's subscribed webhooks: a signed POST each, off the path that published
 * the event, retried with exponential backoff on a non-2xx answer, a timeout or a refused connection, every
 * attempt kept in the webhook's delivery log. Only the event's own project's webhooks are ever read.
 */
export class WebhookDispatcher implements SessionEvents {
  readonly #store: Store;
  readonly #secrets: WebhookSecrets;
  readonly #targets: WebhookTargets;
  readonly #logger: Logger;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #attemptTimeoutMs: number;
  /** Everything in flight: events being fanned out, and attempts. */
  readonly #running = new Set<Promise<void>>();
  /** Attempts in flight (what the census counts: an event with no webhook holds nothing for long). */
  #attempting = 0;
  /** Retries waiting for their time. */
  readonly #waiting = new Set<NodeJS.Timeout>();
  /** Aborts the attempts in flight when closing. */
  readonly #closing = new AbortController();
  #stopping = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#store = options.store;
    this.#secrets = options.secrets;
    this.#targets = options.targets;
    this.#logger = options.logger ?? silentLogger;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#retryBaseMs = options.retryBaseMs ?? 2_000;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
    options.census?.add('webhookDeliveries', () => this.#attempting);
    options.census?.add('webhookRetries', () => this.#waiting.size);
  }

  publish(event: SessionEvent): void {
    if (this.#stopping) return;
    this.#track(this.#fanOut(event));
  }

  /**
   * Stops: no new event is taken and no retry scheduled; pending retries are dropped; deliveries in flight get up
   * to `graceMs` to finish (the endings a shutdown causes are delivered), then are aborted.
   */
  async close(graceMs = 0): Promise<void> {
    this.#stopping = true;
    this.#dropRetries();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#settled(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    this.#closing.abort();
    await this.#settled();
    this.#dropRetries();
  }

  #dropRetries(): void {
    for (const timer of this.#waiting) clearTimeout(timer);
    this.#waiting.clear();
  }

  async #settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  async #fanOut(event: SessionEvent): Promise<void> {
    const webhooks = await this.#store.listWebhooks(event.session.projectId);
    const eventId = `evt_${randomUUID()}`;
    const body = JSON.stringify(webhookEventBody(eventId, event));
    for (const webhook of webhooks) {
      // The store is scoped by project already; this says so where the body is sent.
      if (webhook.projectId !== event.session.projectId || !webhook.eventTypes.includes(event.type)) continue;
      this.#track(this.#attempt({ webhook, eventId, event, body, attempt: 1 }));
    }
  }

  async #attempt(delivery: Delivery): Promise<void> {
    this.#attempting++;
    try {
      await this.#try(delivery);
    } finally {
      this.#attempting--;
    }
  }

  async #try(delivery: Delivery): Promise<void> {
    const { webhook, eventId, event, body, attempt } = delivery;
    if (this.#closing.signal.aborted) return;
    // Read again: the webhook may have been deleted, moved or given a new secret since the event.
    const current = await this.#store.getWebhook(webhook.projectId, webhook.id);
    if (!current?.eventTypes.includes(event.type)) return;
    const attemptedAt = new Date();
    let responseStatus: number | undefined;
    let error: string | undefined;
    try {
      const endpoint = await this.#targets.check(current.endpoint);
      const now = Date.now();
      const secrets = await Promise.all(
        current.secrets
          .filter((s) => !s.retiresAt || s.retiresAt.getTime() > now)
          .map((s) => this.#secrets.open(current.id, s.sealed)),
      );
      const response = await fetch(endpoint, {
        method: 'POST',
        body,
        // A redirect could lead anywhere, private addresses included: it is an answer like any other.
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Wallcrawler-Webhooks/1',
          'x-wallcrawler-event': event.type,
          'x-wallcrawler-delivery': eventId,
          'x-wallcrawler-attempt': String(attempt),
          [SIGNATURE_HEADER]: signatureHeader(secrets, Math.floor(now / 1000), body),
        },
        signal: AbortSignal.any([AbortSignal.timeout(this.#attemptTimeoutMs), this.#closing.signal]),
      });
      responseStatus = response.status;
      await response.body?.cancel().catch(() => {});
      if (response.status < 200 || response.status > 299) error = `The receiver answered ${response.status}.`;
    } catch (thrown) {
      error = describe(thrown, this.#attemptTimeoutMs);
    }
    const retry = error !== undefined && attempt < this.#maxAttempts && !this.#stopping;
    const waitMs = Math.min(this.#retryBaseMs * 2 ** (attempt - 1), 600_000);
    await this.#store
      .addWebhookAttempt({
        id: randomUUID(),
        webhookId: current.id,
        eventId,
        eventType: event.type,
        attempt,
        attemptedAt,
        ...(responseStatus !== undefined ? { responseStatus } : {}),
        ...(error !== undefined ? { error } : {}),
        succeeded: error === undefined,
        ...(retry ? { nextAttemptAt: new Date(Date.now() + waitMs) } : {}),
      })
      .catch((err: unknown) => this.#logger.warn({ err, webhookId: current.id }, 'webhook attempt not logged'));
    if (error === undefined) return;
    this.#logger.warn({ webhookId: current.id, eventId, attempt, error, retry }, 'webhook delivery failed');
    if (!retry) return;
    const timer = setTimeout(() => {
      this.#waiting.delete(timer);
      this.#track(this.#attempt({ ...delivery, webhook: current, attempt: attempt + 1 }));
    }, waitMs);
    this.#waiting.add(timer);
  }

  #track(job: Promise<void>): void {
    const tracked = job
      .catch((err: unknown) => this.#logger.error({ err }, 'webhook delivery crashed'))
      .finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
  }
}

function describe(error: unknown, timeoutMs: number): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `No answer within ${timeoutMs} ms.`;
  if (e.name === 'AbortError') return 'The server stopped during the attempt.';
  if (e.name === 'InvalidWebhookEndpointError') return e.message;
  if (e.cause?.code) return `The request failed: ${e.cause.code}${e.cause.message ? ` (${e.cause.message})` : ''}.`;
  return `The request failed: ${e.message}`;
}
