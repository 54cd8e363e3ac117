import { randomUUID } from 'node:crypto';

/**
 * How a client wants its server-sent events framed. Stagehand's TypeScript client (3.x) reads only blocks that
 * start with `data: ` and fails on an `event:` line before it; the Stainless Python client (3.18 and later) only
 * yields events whose `event:` names a status. So the framing follows the client (reference §5.3).
 */
export type EventFraming = 'data-only' | 'typed';

/** The framing for a request's `x-language` and `x-sdk-version` headers. */
export function framingFor(language: string | undefined, sdkVersion: string | undefined): EventFraming {
  if (language?.toLowerCase() !== 'python') return 'data-only';
  const [major = 0, minor = 0] = (sdkVersion ?? '').split('.').map((n) => Number.parseInt(n, 10) || 0);
  return major > 3 || (major === 3 && minor >= 18) ? 'typed' : 'data-only';
}

export type StreamStatus = 'starting' | 'connected' | 'running' | 'finished' | 'error';

/** One Stagehand stream event: `{data, type, id}`, where `data.status` says what it is. */
export interface StreamEvent {
  type: 'system' | 'log';
  data: { status: StreamStatus } & Record<string, unknown>;
}

/**
 * A `text/event-stream` body that events are written to as they happen. Writes after the client went away are
 * dropped: the work they report goes on, and its result is kept (replay metrics) even if no one reads it.
 */
export class EventStream {
  readonly body: ReadableStream<Uint8Array>;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #open = true;
  readonly #encoder = new TextEncoder();

  constructor(readonly framing: EventFraming) {
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => {
        this.#open = false;
      },
    });
  }

  write(event: StreamEvent): void {
    if (!this.#open) return;
    const json = JSON.stringify({ ...event, id: randomUUID() });
    const frame = this.framing === 'typed' ? `event: ${event.data.status}\ndata: ${json}\n\n` : `data: ${json}\n\n`;
    try {
      this.#controller?.enqueue(this.#encoder.encode(frame));
    } catch {
      this.#open = false;
    }
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      this.#controller?.close();
    } catch {
      // Already closed by the client.
    }
  }
}

/** The headers of an event stream; `X-Accel-Buffering` keeps nginx-style proxies from holding events back. */
export const EVENT_STREAM_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;
