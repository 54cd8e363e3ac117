/**
 * A WebSocket upgrade written by hand over TLS or TCP, for what no client library lets a test do: read a
 * refusal's real status line and body, or send bytes that break the protocol after the upgrade.
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RawAnswer {
  socket: Socket;
  /** The status line (`HTTP/1.1 401 Unauthorized`). */
  statusLine: string;
  status: number;
  headers: Record<string, string>;
  /** What came after the head so far (the refusal's body, or the first frames). */
  rest: Buffer;
}

/** Opens `url` (`https:`/`wss:` over TLS, trusting `NODE_EXTRA_CA_CERTS`; else TCP) and sends `head`. */
export function rawRequest(url: string, head: string): Promise<RawAnswer> {
  const target = new URL(url);
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const port = Number(target.port || (secure ? 443 : 80));
  const socket: Socket = secure
    ? tlsConnect({ host: target.hostname, port, servername: undefined })
    : netConnect(port, target.hostname);
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(head));
    socket.on('error', reject);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const [statusLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({
        socket,
        statusLine,
        status: Number(statusLine.split(' ')[1]),
        headers,
        rest: received.subarray(end + 4),
      });
    };
    socket.on('data', onData);
  });
}

/** A WebSocket upgrade request for `url`'s path and query. */
export function upgradeHead(url: string): string {
  const target = new URL(url);
  return (
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`
  );
}

/** The whole body of a refusal (its `Content-Length`), parsed as JSON. */
export async function refusalBody(answer: RawAnswer): Promise<Record<string, unknown>> {
  const length = Number(answer.headers['content-length']);
  let body = answer.rest;
  while (body.length < length) {
    const chunk = await new Promise<Buffer | undefined>((resolve) => {
      answer.socket.once('data', resolve);
      answer.socket.once('close', () => resolve(undefined));
    });
    if (!chunk) break;
    body = Buffer.concat([body, chunk]);
  }
  answer.socket.destroy();
  return JSON.parse(body.subarray(0, length).toString('utf8')) as Record<string, unknown>;
}

/** Reads the socket until the peer's close frame: its code and reason (unmasked, as a server sends it). */
export async function closeFrameOf(answer: RawAnswer): Promise<{ code: number; reason: string } | undefined> {
  let received = answer.rest;
  for (;;) {
    // Frames before it (pings) are skipped: each is 2 bytes of header and a short payload.
    while (received.length >= 2) {
      const opcode = (received[0] as number) & 0x0f;
      const length = (received[1] as number) & 0x7f;
      if (length > 125 || received.length < 2 + length) break;
      const payload = received.subarray(2, 2 + length);
      if (opcode === 0x8) {
        answer.socket.destroy();
        return payload.length >= 2
          ? { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') }
          : { code: 1005, reason: '' };
      }
      received = received.subarray(2 + length);
    }
    const chunk = await new Promise<Buffer | undefined>((resolve) => {
      answer.socket.once('data', resolve);
      answer.socket.once('close', () => resolve(undefined));
    });
    if (!chunk) return undefined;
    received = Buffer.concat([received, chunk]);
  }
}
