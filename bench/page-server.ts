/**
 * The page every navigation loads, served from this process on 127.0.0.1, like the peer bench's: about 10 KB of
 * HTML with 200 list items, inline CSS, and an inline script that sets the title (so `title()` proves the script
 * ran). Sent with `Cache-Control: no-store`; anything else (the favicon) gets a 204.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const EXPECTED_TITLE = 'bench-ok';

const items = Array.from({ length: 200 }, (_, i) => `<li class="row">item ${i} <b>${(i * 7919) % 1000}</b></li>`).join(
  '',
);
export const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>
<style>body{font-family:sans-serif}.row{padding:2px;border-bottom:1px solid #ddd}</style></head>
<body><h1>bench page</h1><ul>${items}</ul><script>document.title='${EXPECTED_TITLE}';</script></body></html>`;

export interface PageServer {
  /** The page's URL; `i` makes each navigation's URL distinct. */
  url(i: number): string;
  close(): Promise<void>;
}

export async function startPageServer(): Promise<PageServer> {
  const server: Server = createServer((request, response) => {
    if (request.url?.startsWith('/page')) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(PAGE_HTML);
      return;
    }
    response.writeHead(204);
    response.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: (i) => `http://127.0.0.1:${port}/page?i=${i}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
