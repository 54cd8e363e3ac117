import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A page for agents' tools to act on: a button that reveals a line, a text box whose text is echoed, and a
 * select whose choice is echoed, so that each action shows in the next accessibility snapshot.
 */
export const FORM_PAGE = `<!doctype html><html><head><title>Order form</title></head><body>
<h1>Order form</h1>
<button id="details" onclick="document.getElementById('shown').textContent = 'Details shown'">Show details</button>
<p id="shown"></p>
<label>Name <input id="name" oninput="document.getElementById('echo').textContent = 'Hello ' + this.value"></label>
<p id="echo"></p>
<label>Colour <select id="colour" onchange="document.getElementById('chosen').textContent = 'Chosen: ' + this.value">
<option value="red">Red</option><option value="green">Green</option><option value="blue">Blue</option>
</select></label>
<p id="chosen"></p>
</body></html>`;

/** Serves {@link FORM_PAGE} at every path, on a random loopback port. */
export async function startFormPageServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(FORM_PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/order`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
