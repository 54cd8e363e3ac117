import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCloseFrame, FrameBoundaryTracker } from '../../src/proxy/websocket-frames.js';

/** Encodes one frame the way a server would (optionally masked, to exercise that path too). */
function frame(opcode: number, payload: Uint8Array, masked = false): Buffer {
  const n = payload.length;
  const lengthBytes =
    n < 126
      ? [n]
      : n < 65536
        ? [126, n >> 8, n & 255]
        : [127, 0, 0, 0, 0, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  const head = Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | (lengthBytes[0] as number), ...lengthBytes.slice(1)]);
  return Buffer.concat([head, masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), payload]);
}

describe('FrameBoundaryTracker', () => {
  it('finds every frame boundary however the stream is split into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            size: fc.oneof(fc.integer({ min: 0, max: 130 }), fc.integer({ min: 65530, max: 70000 })),
            masked: fc.boolean(),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 50 }),
        (frames, cuts) => {
          const encoded = frames.map((f) => frame(0x1, new Uint8Array(f.size), f.masked));
          const stream = Buffer.concat(encoded);
          const boundaries = new Set<number>();
          let offset = 0;
          for (const e of encoded) {
            offset += e.length;
            boundaries.add(offset);
          }
          boundaries.add(0);
          const tracker = new FrameBoundaryTracker();
          let position = 0;
          let cut = 0;
          while (position < stream.length) {
            const size = Math.min(cuts[cut++ % cuts.length] as number, stream.length - position);
            const chunk = stream.subarray(position, position + size);
            let i = 0;
            while (i < chunk.length) {
              // Stopping at a boundary never overshoots one, and stops at every one.
              i += tracker.advance(chunk, i, true);
              expect(tracker.atBoundary).toBe(boundaries.has(position + i));
              // Step one byte into the next frame.
              if (i < chunk.length) i += tracker.advance(chunk.subarray(0, i + 1), i);
            }
            position += size;
          }
          expect(tracker.atBoundary).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('counts whole messages: final data frames, not fragments or control frames', () => {
    const tracker = new FrameBoundaryTracker();
    const fragment = (opcode: number, payload: string, fin: boolean) => {
      const f = frame(opcode, Buffer.from(payload));
      if (!fin) f[0] = (f[0] as number) & 0x7f;
      return f;
    };
    const stream = Buffer.concat([
      frame(0x1, Buffer.from('{"id":1}'), true),
      frame(0x2, new Uint8Array(70_000)),
      // One message in three fragments, with a ping between them.
      fragment(0x1, '{"id":', false),
      frame(0x9, Buffer.alloc(0)),
      fragment(0x0, '2', false),
      fragment(0x0, '}', true),
      frame(0xa, Buffer.alloc(0)),
    ]);
    // Byte by byte: headers that straddle chunks are counted once.
    for (let i = 0; i < stream.length; i += 7) tracker.advance(stream.subarray(i, i + 7));
    expect(tracker.messages).toBe(3);
    expect(tracker.atBoundary).toBe(true);
  });

  it('notices a close frame', () => {
    const tracker = new FrameBoundaryTracker();
    tracker.advance(frame(0x1, Buffer.from('{"id":1}')));
    expect(tracker.sawClose).toBe(false);
    tracker.advance(encodeCloseFrame(1000, 'bye'));
    expect(tracker.sawClose).toBe(true);
    expect(tracker.atBoundary).toBe(true);
  });
});

describe('encodeCloseFrame', () => {
  it('encodes the code and the reason, cut to the 123-byte limit', () => {
    const short = encodeCloseFrame(1011, 'crashed');
    expect([...short.subarray(0, 4)]).toEqual([0x88, 9, 0x03, 0xf3]);
    expect(short.subarray(4).toString()).toBe('crashed');
    const long = encodeCloseFrame(1000, 'x'.repeat(500));
    expect(long[1]).toBe(125);
    expect(long.length).toBe(127);
  });
});
