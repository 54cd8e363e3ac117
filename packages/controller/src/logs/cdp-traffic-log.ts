import type { SessionLogEntry } from '@wallcrawler/contracts';
import type { MessageSink } from '../proxy/websocket-tap.js';
import { redactParams, redactResult } from './redaction.js';

export interface CdpTrafficLogOptions {
  /** The Wallcrawler session. */
  sessionId: string;
  /** The most the kept entries may add up to (their raw bodies); the oldest are dropped first. */
  maxBytes: number;
  /** The most one raw body keeps; longer ones are cut, with a note. @default 64 KiB */
  maxBodyBytes?: number;
}

/** How many unclaimed answers a connection keeps while their commands are still being decoded. */
const EARLY_ANSWERS = 256;

interface Pending {
  method: string;
  params: Record<string, unknown>;
  rawBody: string;
  /** The length of the command's whole text (its raw body may be cut). */
  size: number;
  timestamp: number;
  targetId: string | undefined;
}

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: Record<string, unknown>;
  sessionId?: string;
}

/**
 * The CDP commands of a session's clients, with their answers, as they pass the proxy: secrets redacted, each
 * body bounded, and the whole log bounded (the oldest entries go first). Fed by one `WebSocketTap` per client
 * connection.
 */
export class CdpTrafficLog {
  readonly #options: Required<CdpTrafficLogOptions>;
  readonly #entries: { entry: SessionLogEntry; bytes: number }[] = [];
  #head = 0;
  #bytes = 0;
  #dropped = 0;
  /** Page targets in the order they appeared: their index is the entry's `pageId`. */
  readonly #pages = new Map<string, number>();
  /** Flattened CDP sessions → the target they are attached to. */
  readonly #targets = new Map<string, string>();

  constructor(options: CdpTrafficLogOptions) {
    this.#options = { maxBodyBytes: 64 * 1024, ...options };
  }

  /** Entries dropped to keep within `maxBytes`. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The kept entries, oldest first. */
  entries(): SessionLogEntry[] {
    return this.#entries.slice(this.#head).map((e) => e.entry);
  }

  /**
   * A sink for one client connection. `targetId` is the page target of a page-level connection
   * (`/devtools/page/<id>`); undefined for the browser target.
   */
  sink(targetId?: string): MessageSink {
    const pending = new Map<number, Pending>();
    /**
     * Answers decoded before their command: each direction is decoded on its own, and with permessage-deflate
     * a small answer can finish inflating before the large command it answers. Kept raw, briefly.
     */
    const early = new Map<number, { text: string; at: number }>();
    if (targetId) this.#page(targetId);
    return {
      fromClient: (text) => {
        const message = parse(text);
        if (message?.id === undefined || typeof message.method !== 'string') return;
        // A live view acknowledges every frame: thousands of entries that say nothing.
        if (message.method === 'Page.screencastFrameAck') return;
        const params = redactParams(message.method, message.params ?? {});
        const request: Pending = {
          method: message.method,
          params,
          rawBody: this.#bounded(params === message.params ? text : JSON.stringify({ ...message, params })),
          size: text.length,
          timestamp: Date.now(),
          targetId: message.sessionId ? this.#targets.get(message.sessionId) : targetId,
        };
        const answered = early.get(message.id);
        if (answered) {
          early.delete(message.id);
          this.#answer(request, answered.text, answered.at);
        } else pending.set(message.id, request);
      },
      fromBrowser: (text) => {
        // Most of this direction is events (network, screencast frames) the log does not keep: Chromium writes
        // `{"method":...` first for those and `{"id":N,` first for answers, so both are told apart unparsed.
        if (text.startsWith('{"method"')) {
          if (text.startsWith('{"method":"Target.attachedToTarget"')) this.#watchTargets(parse(text) ?? {});
          return;
        }
        const id = Number(/^\{"id":(\d+)/.exec(text)?.[1] ?? Number.NaN);
        if (Number.isNaN(id)) {
          const message = parse(text);
          if (message) this.#watchTargets(message);
          return;
        }
        const request = pending.get(id);
        if (!request) {
          early.set(id, { text, at: Date.now() });
          // Bounded: answers to commands the log skips (frame acks) are never claimed.
          if (early.size > EARLY_ANSWERS) early.delete(early.keys().next().value as number);
          return;
        }
        pending.delete(id);
        this.#answer(request, text, Date.now());
      },
    };
  }

  /** Records a command with its answer (`text`, Chromium's raw message). */
  #answer(request: Pending, text: string, answeredAt: number): void {
    const message = parse(text);
    if (!message) return;
    const raw = message.result ?? message.error ?? {};
    const result = message.error ? raw : redactResult(request.method, raw);
    if (request.method === 'Target.attachToTarget' && typeof result.sessionId === 'string') {
      const target = request.params.targetId;
      if (typeof target === 'string') this.#targets.set(result.sessionId, target);
    }
    const entry: SessionLogEntry = {
      method: request.method,
      pageId: request.targetId ? this.#page(request.targetId) : 0,
      sessionId: this.#options.sessionId,
      request: {
        params: this.#boundedObject(request.params, request.size),
        rawBody: request.rawBody,
        timestamp: request.timestamp,
      },
      response: {
        rawBody: this.#bounded(result === raw ? text : JSON.stringify({ ...message, result })),
        result: this.#boundedObject(result, text.length),
        timestamp: Math.max(answeredAt, request.timestamp),
      },
      timestamp: request.timestamp,
      ...(typeof result.frameId === 'string' ? { frameId: result.frameId } : {}),
      ...(typeof result.loaderId === 'string' ? { loaderId: result.loaderId } : {}),
    };
    this.#add(entry);
  }

  /** Learns which flattened session is which target from `Target.attachedToTarget`. */
  #watchTargets(message: Message): void {
    if (message.method !== 'Target.attachedToTarget') return;
    const info = message.params?.targetInfo as { targetId?: string; type?: string } | undefined;
    const sessionId = message.params?.sessionId;
    if (typeof sessionId === 'string' && info?.targetId) {
      this.#targets.set(sessionId, info.targetId);
      if (info.type === 'page') this.#page(info.targetId);
    }
  }

  #page(targetId: string): number {
    let index = this.#pages.get(targetId);
    if (index === undefined) {
      index = this.#pages.size;
      this.#pages.set(targetId, index);
    }
    return index;
  }

  #bounded(text: string): string {
    const max = this.#options.maxBodyBytes;
    if (text.length <= max) return text;
    return `${text.slice(0, max)}… [${text.length - max} more characters not kept]`;
  }

  /**
   * A parsed body, unless its message (`size` characters) was too long to keep whole: then only a note (the
   * whole object would defeat the bound). Judged by the message's length, at hand, not by serialising again.
   */
  #boundedObject(value: Record<string, unknown>, size: number): Record<string, unknown> {
    return size > this.#options.maxBodyBytes ? { truncated: true, bytes: size } : value;
  }

  #add(entry: SessionLogEntry): void {
    const bytes = (entry.request?.rawBody.length ?? 0) + (entry.response?.rawBody.length ?? 0) + 200;
    this.#entries.push({ entry, bytes });
    this.#bytes += bytes;
    while (this.#bytes > this.#options.maxBytes && this.#head < this.#entries.length) {
      const oldest = this.#entries[this.#head++];
      this.#bytes -= oldest?.bytes ?? 0;
      this.#dropped++;
    }
    // Compact now and then, so dropped entries do not pile up at the front.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

function parse(text: string): Message | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Message) : undefined;
  } catch {
    return undefined;
  }
}
