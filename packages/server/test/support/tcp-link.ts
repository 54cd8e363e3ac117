import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP link to a target that a test can cut (refusing and dropping every connection), stall (holding every
 * connection without an answer) and mend, on one port.
 */
export interface TcpLink {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Where connections go, settable after the link is made (the target may start later). */
  target: { host: string; port: number } | undefined;
  /** Drops every connection and refuses new ones, as an unreachable network does. */
  cut(): Promise<void>;
  /** Drops every connection, then takes new ones and never answers them, as a black-holed network does. */
  stall(): void;
  /** Forwards again (listening again on the same port after a cut); stalled connections are dropped. */
  mend(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a link on a free loopback port; it forwards each connection to `target` byte for byte. */
export async function startTcpLink(): Promise<TcpLink> {
  const sockets = new Set<Socket>();
  let stalled = false;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  const server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (stalled) return;
    if (!link.target) return client.destroy();
    const upstream = createConnection(link.target);
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    client.once('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
    upstream.once('error', () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = async () => {
    dropAll();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  };
  await listen(0);
  const { port } = server.address() as { port: number };
  const link: TcpLink = {
    url: `http://127.0.0.1:${port}`,
    target: undefined,
    cut: stop,
    stall() {
      stalled = true;
      dropAll();
    },
    async mend() {
      stalled = false;
      dropAll();
      if (!server.listening) await listen(port);
    },
    close: stop,
  };
  return link;
}
