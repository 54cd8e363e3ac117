import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A real HTTP proxy on loopback, as a user's upstream proxy would be: it answers CONNECT (tunnels) and
 * absolute-URI requests, asks for Basic credentials when it has some (407 otherwise), and resolves the host
 * names in `hosts` itself, so that a page at `http://site.wallcrawler.test` loads only through it.
 */
export interface UpstreamProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Every request it got: the target, and the credentials sent (decoded), if any. */
  requests: { method: string; target: string; credentials: string | undefined }[];
  /** Bytes it carried to and from targets. */
  bytes: number;
  /** Changes the credentials it accepts from now on (a rotated password). */
  setCredentials(username: string, password: string): void;
  close(): Promise<void>;
}

export async function startUpstreamProxy({
  username,
  password,
  hosts = {},
}: {
  username?: string;
  password?: string;
  /** Host name → `host:port` it really is (on loopback). */
  hosts?: Record<string, string>;
} = {}): Promise<UpstreamProxy> {
  let expected = username !== undefined ? `${username}:${password ?? ''}` : undefined;
  const requests: UpstreamProxy['requests'] = [];
  const sockets = new Set<Duplex>();
  const state = { bytes: 0 };

  const credentialsOf = (request: IncomingMessage) => {
    const header = request.headers['proxy-authorization'];
    const match = typeof header === 'string' ? /^Basic (.+)$/.exec(header) : null;
    return match?.[1] ? Buffer.from(match[1], 'base64').toString() : undefined;
  };
  const allowed = (request: IncomingMessage) => expected === undefined || credentialsOf(request) === expected;
  const resolve = (host: string, port: number) => {
    const mapped = hosts[host];
    if (mapped) {
      const [h, p] = mapped.split(':');
      return { host: h as string, port: Number(p) };
    }
    return { host, port };
  };
  const count = (socket: Socket) => {
    socket.on('data', (c: Buffer) => {
      state.bytes += c.length;
    });
  };

  const server: Server = createServer((request, response) => {
    requests.push({ method: request.method ?? '', target: request.url ?? '', credentials: credentialsOf(request) });
    if (!allowed(request)) {
      response.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end('proxy credentials needed');
      return;
    }
    const url = new URL(request.url ?? '');
    const target = resolve(url.hostname, Number(url.port || 80));
    const headers = { ...request.headers };
    delete headers['proxy-authorization'];
    const upstream = httpRequest({ ...target, method: request.method, path: `${url.pathname}${url.search}`, headers });
    upstream.on('socket', count);
    upstream.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.writeHead(502).end());
    request.pipe(upstream);
  });
  server.on('connect', (request: IncomingMessage, client: Duplex, head: Buffer) => {
    requests.push({ method: 'CONNECT', target: request.url ?? '', credentials: credentialsOf(request) });
    client.on('error', () => {});
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    if (!allowed(request)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      return;
    }
    const [host, port] = (request.url ?? '').split(':');
    if (!host || !port || (host.endsWith('.invalid') && !hosts[host])) {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    const target = resolve(host, Number(port));
    const socket = connect(target);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    count(socket);
    socket.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) socket.write(head);
      socket.pipe(client);
      client.pipe(socket);
    });
    socket.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get bytes() {
      return state.bytes;
    },
    setCredentials(user, pass) {
      expected = `${user}:${pass}`;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
