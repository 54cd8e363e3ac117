import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ExternalProxyRoute, type Logger, type ProxyRoute, silentLogger } from '@wallcrawler/contracts';

export interface ForwardProxyOptions {
  /** The first route whose pattern matches a host is that host's; a host no route matches goes straight out. */
  routes: readonly ProxyRoute[];
  /** How long connecting to an upstream proxy or a host may take. @default 15_000 */
  connectTimeoutMs?: number;
  logger?: Logger;
}

/** Why the upstream proxy did not carry a request, in words for the session's log and its error. */
export class UpstreamProxyError extends Error {
  constructor(
    readonly proxy: string,
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamProxyError';
  }
}

const CRLF2 = '\r\n\r\n';

/** The proxy's address without its credentials, for messages. */
export function proxyLabel(server: URL): string {
  return `${server.protocol}//${server.host}`;
}

/** Where to connect for a URL's host (IPv6 brackets removed), at its port or `defaultPort`. */
function endpoint(url: URL, defaultPort: number): { host: string; port: number } {
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || defaultPort) };
}

/** A 407 from the route's proxy, as the session's error. */
function credentialsRefused(route: ExternalProxyRoute): UpstreamProxyError {
  const label = proxyLabel(route.server);
  return new UpstreamProxyError(
    label,
    407,
    `The proxy ${label} refused the credentials (407 Proxy Authentication Required): check the proxy's username and password`,
  );
}

function basicAuth(route: ExternalProxyRoute): string | undefined {
  if (route.username === undefined && route.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${route.username ?? ''}:${route.password ?? ''}`).toString('base64')}`;
}

/** `host:port` of a CONNECT target or a URL, split; undefined when it is not one. */
function hostPort(authority: string, defaultPort: number): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(authority);
  if (!match?.[1]) return undefined;
  const port = match[2] ? Number(match[2]) : defaultPort;
  return port > 0 && port < 65536 ? { host: match[1], port } : undefined;
}

/**
 * Opens a tunnel to `target` through the route's proxy (HTTP CONNECT, with its credentials), resolving with the
 * socket once the proxy answered 200, and any bytes it already sent past its answer.
 * @throws UpstreamProxyError when the proxy cannot be reached or refuses (407 for the credentials)
 */
export function openTunnel(
  route: ExternalProxyRoute,
  target: string,
  timeoutMs = 15_000,
): Promise<{ socket: Socket; rest: Buffer }> {
  const label = proxyLabel(route.server);
  return new Promise((resolve, reject) => {
    const socket = connect(endpoint(route.server, 80));
    let head = Buffer.alloc(0);
    const fail = (error: UpstreamProxyError) => {
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new UpstreamProxyError(label, undefined, `The proxy ${label} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('error', (error) => {
      clearTimeout(timer);
      fail(new UpstreamProxyError(label, undefined, `The proxy ${label} could not be reached: ${error.message}`));
    });
    socket.once('connect', () => {
      const auth = basicAuth(route);
      socket.write(
        `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`,
      );
    });
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(CRLF2);
      if (end === -1) {
        if (head.length > 64 * 1024)
          fail(new UpstreamProxyError(label, undefined, `The proxy ${label} sent no answer`));
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1', 0, end))?.[1]);
      if (status === 200) {
        socket.removeAllListeners('error');
        resolve({ socket, rest: head.subarray(end + CRLF2.length) });
      } else if (status === 407) {
        fail(credentialsRefused(route));
      } else {
        fail(
          new UpstreamProxyError(
            label,
            Number.isFinite(status) ? status : undefined,
            `The proxy ${label} refused the tunnel to ${target}${Number.isFinite(status) ? ` (${status})` : ''}`,
          ),
        );
      }
    };
    socket.on('data', onData);
  });
}

/**
 * Checks a proxy before a session uses it: asks it for a tunnel to a host that cannot exist (`.invalid`, so the
 * check reaches no one), which a proxy refuses with 407 when the credentials are wrong, and with some other
 * answer (it cannot resolve the host) when they are right.
 * @throws UpstreamProxyError when the proxy cannot be reached, or refuses the credentials (status 407)
 */
export async function checkProxy(route: ExternalProxyRoute, timeoutMs = 10_000): Promise<void> {
  try {
    const { socket } = await openTunnel(route, 'wallcrawler-proxy-check.invalid:443', timeoutMs);
    socket.destroy();
  } catch (error) {
    if (error instanceof UpstreamProxyError && (error.status === 407 || error.status === undefined)) throw error;
  }
}

/**
 * A session's own HTTP proxy, on 127.0.0.1: its Chromium is started with `--proxy-server` pointing here. It sends
 * each host's traffic the way the session's routes say, adding the upstream proxy's credentials itself (so the
 * browser never sees them and never prompts), and counts the bytes that went through upstream proxies
 * (`proxyBytes`). A tunnel the upstream refuses gets a 502 at once: the page fails to load, it does not hang.
 */
export class ForwardProxy {
  readonly #server: Server;
  readonly #options: ForwardProxyOptions;
  readonly #logger: Logger;
  readonly #sockets = new Set<Duplex>();
  /** Its own connections for plain-HTTP requests: never shared with another session's proxy, cut on close. */
  readonly #agent = new Agent({ keepAlive: true });
  /** Open sockets to upstream proxies; their counters are added to `#closedBytes` when they close. */
  readonly #upstreams = new Set<Socket>();
  #closedBytes = 0;
  #lastError: string | undefined;

  private constructor(server: Server, options: ForwardProxyOptions) {
    this.#server = server;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  static async start(options: ForwardProxyOptions): Promise<ForwardProxy> {
    const server = createServer();
    const proxy = new ForwardProxy(server, options);
    server.on('connect', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      proxy.#tunnel(request, socket, head),
    );
    server.on('request', (request: IncomingMessage, response: ServerResponse) => proxy.#forward(request, response));
    server.on('connection', (socket: Socket) => proxy.#track(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return proxy;
  }

  /** `http://127.0.0.1:<port>`, for Chromium's `--proxy-server`. */
  get url(): string {
    const address = this.#server.address();
    if (!address || typeof address === 'string') throw new Error('the proxy is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Bytes sent to and received from upstream proxies so far. */
  get bytes(): number {
    let bytes = this.#closedBytes;
    for (const socket of this.#upstreams) bytes += socket.bytesRead + socket.bytesWritten;
    return bytes;
  }

  /** The last refusal or failure of an upstream proxy, if any. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Stops: every connection through it is cut. Safe to call more than once. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#agent.destroy();
    if (!this.#server.listening) return;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #track(socket: Duplex): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #route(host: string): ProxyRoute | undefined {
    return this.#options.routes.find((r) => !r.pattern || r.pattern.test(host));
  }

  #failed(error: unknown): string {
    const message = (error as Error).message;
    if (message !== this.#lastError) this.#logger.warn({ err: error }, 'a request through the proxy failed');
    this.#lastError = message;
    return message;
  }

  /** Counts what passes through `socket` (an upstream proxy's), both ways, from its own counters. */
  #meter(socket: Socket): void {
    if (this.#upstreams.has(socket)) return;
    this.#upstreams.add(socket);
    socket.once('close', () => {
      this.#upstreams.delete(socket);
      this.#closedBytes += socket.bytesRead + socket.bytesWritten;
    });
  }

  #tunnel(request: IncomingMessage, client: Duplex, head: Buffer): void {
    const target = request.url ?? '';
    const parsed = hostPort(target, 443);
    client.on('error', () => {});
    if (!parsed) {
      client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const route = this.#route(parsed.host);
    const opened =
      route?.kind === 'external'
        ? openTunnel(route, target, this.#options.connectTimeoutMs).then((tunnel) => {
            this.#meter(tunnel.socket);
            return tunnel;
          })
        : new Promise<{ socket: Socket; rest: Buffer }>((resolve, reject) => {
            const socket = connect(parsed);
            socket.once('connect', () => {
              socket.removeListener('error', reject);
              resolve({ socket, rest: Buffer.alloc(0) });
            });
            socket.once('error', reject);
          });
    opened.then(
      ({ socket, rest }) => {
        this.#track(socket);
        if (client.destroyed) {
          socket.destroy();
          return;
        }
        socket.on('error', () => client.destroy());
        client.on('error', () => socket.destroy());
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (rest.length) client.write(rest);
        if (head.length) socket.write(head);
        socket.pipe(client);
        client.pipe(socket);
      },
      (error: unknown) => {
        const message = this.#failed(error);
        client.end(
          `HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
        );
      },
    );
  }

  #forward(request: IncomingMessage, response: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(request.url ?? '');
      if (url.protocol !== 'http:') throw new Error('not an http: URL');
    } catch {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('A proxy request needs an absolute http: URL');
      return;
    }
    const target = endpoint(url, 80);
    const route = this.#route(target.host);
    const headers = { ...request.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    let upstream: ReturnType<typeof httpRequest>;
    if (route?.kind === 'external') {
      const auth = basicAuth(route);
      upstream = httpRequest({
        ...endpoint(route.server, 80),
        agent: this.#agent,
        method: request.method,
        path: url.href,
        headers: { ...headers, ...(auth ? { 'proxy-authorization': auth } : {}) },
      });
      upstream.on('socket', (socket: Socket) => this.#meter(socket));
    } else {
      upstream = httpRequest({
        ...target,
        agent: this.#agent,
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers,
      });
    }
    upstream.setTimeout(this.#options.connectTimeoutMs ?? 15_000, () => upstream.destroy(new Error('timed out')));
    upstream.on('response', (answer) => {
      if (route?.kind === 'external' && answer.statusCode === 407) {
        const message = this.#failed(credentialsRefused(route));
        answer.resume();
        response.writeHead(502, { 'content-type': 'text/plain' }).end(message);
        return;
      }
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', (error) => {
      const message = this.#failed(
        route?.kind === 'external'
          ? new UpstreamProxyError(
              proxyLabel(route.server),
              undefined,
              `The proxy ${proxyLabel(route.server)} failed: ${error.message}`,
            )
          : error,
      );
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' }).end(message);
      else response.destroy();
    });
    request.pipe(upstream);
  }
}
