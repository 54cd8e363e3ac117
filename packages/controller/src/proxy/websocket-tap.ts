import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import * as ws from 'ws';
import { packageDirectory } from '../package-files.js';

/** ws's frame parser: a Writable of raw bytes that emits whole messages. Its typings leave it out. */
type Receiver = Writable;
const Receiver = (ws as unknown as { Receiver: new (options: Record<string, unknown>) => Receiver }).Receiver;

/** Where decoded messages of one tapped connection go. */
export interface MessageSink {
  /** A text message the client sent to Chromium. */
  fromClient(text: string): void;
  /** A text message Chromium sent to the client. */
  fromBrowser(text: string): void;
}

interface PerMessageDeflateLike {
  accept(configurations: unknown[]): unknown;
  cleanup(): void;
}

/**
 * ws's permessage-deflate and extension-header parser: the pieces its Receiver needs to inflate compressed
 * messages. ws does not export them, so they are loaded from its own files.
 */
function wsInternals(): {
  PerMessageDeflate: new (options: Record<string, unknown>) => PerMessageDeflateLike;
  parseExtensions: (header: string) => Record<string, unknown[]>;
} {
  const require = createRequire(import.meta.url);
  const lib = join(packageDirectory(import.meta.url, 'ws'), 'lib');
  return {
    PerMessageDeflate: require(join(lib, 'permessage-deflate.js')),
    parseExtensions: require(join(lib, 'extension.js')).parse,
  };
}

/** The most a tapped message may be; larger ones end the tap (the connection itself is unaffected). */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/**
 * Decodes the WebSocket messages of a proxied connection from copies of its bytes, with ws's own parser
 * (`Receiver`), one per direction: fragmented and compressed (`permessage-deflate`, when Chromium accepted the
 * client's offer) messages come out whole. It only ever reads: a frame it cannot parse stops the tap, never the
 * connection.
 */
export class WebSocketTap {
  readonly #sink: MessageSink;
  #client: Receiver | undefined;
  #browser: Receiver | undefined;
  /** Client bytes seen before Chromium's answer said which extensions are on. */
  #early: Buffer[] | undefined = [];
  #stopped = false;

  constructor(sink: MessageSink) {
    this.#sink = sink;
  }

  /** Chromium accepted the upgrade; `responseHead` is its 101 response, which names the negotiated extensions. */
  upgraded(responseHead: string): void {
    if (this.#stopped) return;
    const header = /^sec-websocket-extensions:\s*(.+)$/im.exec(responseHead)?.[1]?.trim();
    try {
      this.#client = this.#receiver(true, header, (text) => this.#sink.fromClient(text));
      this.#browser = this.#receiver(false, header, (text) => this.#sink.fromBrowser(text));
    } catch {
      this.stop();
      return;
    }
    for (const chunk of this.#early ?? []) this.#client.write(chunk);
    this.#early = undefined;
  }

  /** Bytes the client sent (after its upgrade request). */
  clientBytes(chunk: Buffer): void {
    if (this.#stopped) return;
    if (this.#early) this.#early.push(chunk);
    else this.#client?.write(chunk);
  }

  /** Bytes Chromium sent (after its upgrade response). */
  browserBytes(chunk: Buffer): void {
    if (!this.#stopped) this.#browser?.write(chunk);
  }

  /**
   * Stops decoding. The receivers are ended, not destroyed: a message may be inflating in zlib right now, and
   * freeing its inflater under it would crash the process. Each inflater is freed once its receiver is done.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#early = undefined;
    this.#client?.end();
    this.#browser?.end();
  }

  /** A receiver for one direction: `isServer` decodes the client's (masked) frames. */
  #receiver(isServer: boolean, extensionsHeader: string | undefined, onText: (text: string) => void): Receiver {
    const extensions: Record<string, unknown> = {};
    let inflater: PerMessageDeflateLike | undefined;
    if (extensionsHeader && /permessage-deflate/i.test(extensionsHeader)) {
      const { PerMessageDeflate, parseExtensions } = wsInternals();
      const offers = parseExtensions(extensionsHeader)['permessage-deflate'];
      if (offers) {
        inflater = new PerMessageDeflate({ isServer, maxPayload: MAX_MESSAGE_BYTES });
        inflater.accept(offers);
        extensions['permessage-deflate'] = inflater;
      }
    }
    const receiver = new Receiver({ isServer, extensions, maxPayload: MAX_MESSAGE_BYTES, skipUTF8Validation: true });
    receiver.on('message', (data: Buffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) onText(Array.isArray(data) ? Buffer.concat(data).toString() : data.toString());
    });
    // Once the receiver is done (ended, or failed: ws has then already dropped its inflate stream), nothing is
    // inflating any more and the inflater can go.
    const release = () => {
      try {
        inflater?.cleanup();
      } catch {}
    };
    receiver.once('finish', release);
    receiver.once('error', () => {
      release();
      this.stop();
    });
    // Pings and pongs need no answer from a tap.
    receiver.on('ping', () => {});
    receiver.on('pong', () => {});
    receiver.on('conclude', () => {});
    return receiver;
  }
}
