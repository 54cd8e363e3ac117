/**
 * Just enough of RFC 6455 for a byte-level proxy: find frame boundaries in a stream without buffering or
 * copying payloads, and encode a close frame. The proxy forwards raw TCP (the cheapest relay there is) and uses
 * this to stop at a frame boundary before it writes a close frame of its own.
 */

/**
 * Tracks where frames start and end in a WebSocket byte stream (either direction, after the HTTP handshake), and
 * counts the messages.
 */
export class FrameBoundaryTracker {
  /** Payload bytes of the current frame still to come. */
  #remaining = 0;
  /** Header bytes of the next frame seen so far (a header spans at most 14 bytes and may straddle chunks). */
  #header: number[] = [];
  #sawClose = false;
  #messages = 0;

  /** Whole messages seen (data frames that end one: FIN set, not a control frame). */
  get messages(): number {
    return this.#messages;
  }

  /** True once the stream carried a close frame: the server started (or answered) the closing handshake. */
  get sawClose(): boolean {
    return this.#sawClose;
  }

  /** True when the bytes seen so far end exactly on a frame boundary. */
  get atBoundary(): boolean {
    return this.#remaining === 0 && this.#header.length === 0;
  }

  /**
   * Consumes bytes of `chunk` from `start`. Returns how many were consumed: all of them, or with `stopAtBoundary`,
   * only up to the first frame boundary (0 if the stream is already on one).
   */
  advance(chunk: Uint8Array, start = 0, stopAtBoundary = false): number {
    let i = start;
    while (i < chunk.length) {
      if (stopAtBoundary && this.atBoundary) break;
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, chunk.length - i);
        this.#remaining -= take;
        i += take;
        continue;
      }
      this.#header.push(chunk[i] as number);
      i++;
      const length = this.#completeHeaderLength();
      if (length !== undefined && this.#header.length === length) {
        const first = this.#header[0] as number;
        const opcode = first & 0x0f;
        if (opcode === 0x8) this.#sawClose = true;
        else if (opcode < 0x8 && (first & 0x80) !== 0) this.#messages++;
        this.#remaining = this.#payloadLength();
        this.#header = [];
      }
    }
    return i - start;
  }

  /** The full header length once the first two bytes are known. */
  #completeHeaderLength(): number | undefined {
    const second = this.#header[1];
    if (second === undefined) return undefined;
    const code = second & 0x7f;
    const masked = (second & 0x80) !== 0;
    return 2 + (code === 126 ? 2 : code === 127 ? 8 : 0) + (masked ? 4 : 0);
  }

  #payloadLength(): number {
    const h = this.#header;
    const code = (h[1] as number) & 0x7f;
    if (code < 126) return code;
    if (code === 126) return ((h[2] as number) << 8) | (h[3] as number);
    // 64-bit length; CDP messages stay far below 2^53.
    let length = 0;
    for (let k = 2; k < 10; k++) length = length * 256 + (h[k] as number);
    return length;
  }
}

/** Close codes the proxy sends. 1000 is a normal ending; 1011 means the browser failed. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_INTERNAL_ERROR = 1011;

/** An unmasked (server-to-client) close frame. The reason is cut to fit the 123-byte limit of control frames. */
export function encodeCloseFrame(code: number, reason: string): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123) text = text.subarray(0, 123);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88; // FIN + opcode 8 (close)
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}
