import { createConnection, createServer, type Socket } from 'node:net';

/** A TCP link to a target that a test can cut (refusing and dropping every connection) and mend, on one port. */
export interface TcpLink {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Where connections go, settable after the link is made (the target may start later). */
  target: { host: string; port: number } | undefined;
  /** Drops every connection and refuses new ones, as an unreachable network does. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  mend(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a link on a free loopback port; it forwards each connection to `target` byte for byte. */
export async function startTcpLink(): Promise<TcpLink> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    if (!link.target) return client.destroy();
    const upstream = createConnection(link.target);
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    client.once('error', () => upstream.destroy());
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
    for (const socket of sockets) socket.destroy();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  };
  await listen(0);
  const { port } = server.address() as { port: number };
  const link: TcpLink = {
    url: `http://127.0.0.1:${port}`,
    target: undefined,
    cut: stop,
    mend: () => listen(port),
    close: stop,
  };
  return link;
}
