/** What the sessions table says about a session, as far as the edge cares: where to relay, or why not. */
export type SessionAddress =
  | { kind: 'running'; projectId: string | undefined; endpoint: { host: string; port: number } }
  | { kind: 'starting' }
  | { kind: 'ended'; status: string }
  | { kind: 'unknown' };

/** Reads one session's raw item (the controller's `SessionTable.get`). */
export type SessionItemReader = (sessionId: string) => Promise<Record<string, unknown> | undefined>;

export interface SessionAddressesOptions {
  read: SessionItemReader;
  /** How long a running session's address is reused without reading its item again. @default 2_000 */
  ttlMs?: number;
  /** Addresses kept at most (running sessions reached through this edge task). @default 10_000 */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Where each session's task is reached, from the sessions table's `connectEndpoint` (which the task writes as it
 * reports RUNNING), kept a short while: a client's page load opens several sockets and discovery requests in a
 * burst, and each would otherwise be a DynamoDB read. Only a running session's answer is kept: an unknown or
 * starting session may become running any moment, and an ended one is answered from its item each time.
 *
 * A session that ends within the cache's life may still be relayed to its task, which then refuses on its own
 * (its controller answers 410 once its session ended); no client reaches a browser that is not its session's.
 */
export class SessionAddresses {
  readonly #read: SessionItemReader;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { address: SessionAddress; until: number }>();
  /** One read in flight per session, shared by the requests that come while it runs. */
  readonly #reading = new Map<string, Promise<SessionAddress>>();

  constructor({ read, ttlMs = 2_000, maxEntries = 10_000, now = Date.now }: SessionAddressesOptions) {
    this.#read = read;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  /** @throws what the read throws (DynamoDB unreachable): the caller answers 503 */
  async lookup(sessionId: string): Promise<SessionAddress> {
    const cached = this.#cache.get(sessionId);
    if (cached && cached.until > this.#now()) return cached.address;
    if (cached) this.#cache.delete(sessionId);
    let reading = this.#reading.get(sessionId);
    if (!reading) {
      reading = this.#read(sessionId)
        .then((item) => addressOf(item))
        .finally(() => this.#reading.delete(sessionId));
      this.#reading.set(sessionId, reading);
    }
    const address = await reading;
    if (address.kind === 'running') this.#remember(sessionId, address);
    return address;
  }

  /** Forgets a session's address (its task could not be reached: the next lookup reads the item again). */
  forget(sessionId: string): void {
    this.#cache.delete(sessionId);
  }

  /** How many addresses are kept (the leak check). */
  get size(): number {
    return this.#cache.size;
  }

  #remember(sessionId: string, address: SessionAddress): void {
    this.#cache.delete(sessionId);
    if (this.#cache.size >= this.#maxEntries) {
      // The oldest entry goes first (a Map keeps insertion order); expired ones go as they are met.
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(sessionId, { address, until: this.#now() + this.#ttlMs });
  }
}

/** The address in a sessions-table item: its status, and `connectEndpoint` (`ws://host:port`) while it runs. */
export function addressOf(item: Record<string, unknown> | undefined): SessionAddress {
  if (!item) return { kind: 'unknown' };
  const status = typeof item.status === 'string' ? item.status : 'UNKNOWN';
  if (status === 'PENDING') return { kind: 'starting' };
  if (status !== 'RUNNING') return { kind: 'ended', status };
  const endpoint = parseEndpoint(item.connectEndpoint);
  // RUNNING without an address of its task: a direct session's placement that the edge cannot reach.
  if (!endpoint) return { kind: 'starting' };
  return { kind: 'running', projectId: typeof item.projectId === 'string' ? item.projectId : undefined, endpoint };
}

function parseEndpoint(value: unknown): { host: string; port: number } | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'ws:' && url.protocol !== 'http:') return undefined;
    const port = Number(url.port || 80);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}
