import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { ProxyRoute } from '@wallcrawler/contracts';
import { startUpstreamProxy, type UpstreamProxy } from '@wallcrawler/test-support/http-proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProxy, ForwardProxy, UpstreamProxyError } from '../../src/proxy/forward-proxy.js';

/** A session's forward proxy against a real upstream proxy and real servers, on loopback. */

let site: Server;
let siteHost: string;
let echo: TcpServer;
let echoHost: string;
let upstream: UpstreamProxy;

beforeAll(async () => {
  site = createServer((req, res) => res.end(`site ${req.url}`));
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  siteHost = `127.0.0.1:${(site.address() as AddressInfo).port}`;
  // A TCP echo service, reached through tunnels.
  echo = createTcpServer((socket) => socket.pipe(socket));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoHost = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
  upstream = await startUpstreamProxy({
    username: 'alice',
    password: 's3cret',
    hosts: { 'site.wallcrawler.test': siteHost, 'echo.wallcrawler.test': echoHost },
  });
});
afterAll(async () => {
  await upstream.close();
  site.closeAllConnections();
  await new Promise((r) => site.close(r));
  await new Promise((r) => echo.close(r));
});

const external = (password = 's3cret', pattern?: RegExp): Extract<ProxyRoute, { kind: 'external' }> => ({
  kind: 'external',
  server: new URL(upstream.url),
  username: 'alice',
  password,
  pattern,
});

/** GET `url` through the proxy at `proxyUrl` (an absolute-URI request, as a browser sends). */
function getThrough(proxyUrl: string, url: string): Promise<{ status: number; body: string }> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: proxy.hostname, port: proxy.port, path: url, headers: { host: new URL(url).host } });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a tunnel through the proxy at `proxyUrl` (CONNECT), sends `text`, and reads what comes back. */
function tunnelThrough(proxyUrl: string, target: string, text: string): Promise<{ head: string; echoed: string }> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: proxy.hostname, port: Number(proxy.port) });
    let head: string | undefined;
    let data = '';
    socket.on('connect', () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    socket.on('data', (chunk) => {
      data += chunk;
      if (head === undefined) {
        const end = data.indexOf('\r\n\r\n');
        if (end === -1) return;
        head = data.slice(0, end);
        data = data.slice(end + 4);
        if (!head.startsWith('HTTP/1.1 200')) {
          socket.destroy();
          resolve({ head, echoed: '' });
          return;
        }
        socket.write(text);
      }
      if (data.length >= text.length) {
        socket.destroy();
        resolve({ head, echoed: data });
      }
    });
    socket.on('error', reject);
  });
}

describe('ForwardProxy', () => {
  it('sends matching hosts through the upstream proxy with its credentials, others straight out, and counts the upstream bytes', async () => {
    const proxy = await ForwardProxy.start({ routes: [external('s3cret', /^.*\.wallcrawler\.test$/i)] });
    try {
      const before = upstream.requests.length;
      const viaUpstream = await getThrough(proxy.url, 'http://site.wallcrawler.test/a');
      expect(viaUpstream).toEqual({ status: 200, body: 'site /a' });
      const direct = await getThrough(proxy.url, `http://${siteHost}/b`);
      expect(direct).toEqual({ status: 200, body: 'site /b' });
      const seen = upstream.requests.slice(before);
      // Only the matching host reached the upstream proxy, with the credentials the session was given.
      expect(seen).toEqual([{ method: 'GET', target: 'http://site.wallcrawler.test/a', credentials: 'alice:s3cret' }]);
      expect(proxy.bytes).toBeGreaterThan(0);
      const afterHttp = proxy.bytes;

      const tunnel = await tunnelThrough(proxy.url, 'echo.wallcrawler.test:7', 'hello through the tunnel');
      expect(tunnel.head).toMatch(/^HTTP\/1\.1 200/);
      expect(tunnel.echoed).toBe('hello through the tunnel');
      expect(upstream.requests.at(-1)).toEqual({
        method: 'CONNECT',
        target: 'echo.wallcrawler.test:7',
        credentials: 'alice:s3cret',
      });
      expect(proxy.bytes).toBeGreaterThan(afterHttp);
    } finally {
      await proxy.close();
    }
  });

  it('answers 502 at once, with the reason, when the upstream refuses the credentials', async () => {
    const proxy = await ForwardProxy.start({ routes: [external('wrong')] });
    try {
      const page = await getThrough(proxy.url, 'http://site.wallcrawler.test/a');
      expect(page.status).toBe(502);
      expect(page.body).toMatch(/refused the credentials \(407 Proxy Authentication Required\)/);
      expect(page.body).not.toContain('wrong');
      const tunnel = await tunnelThrough(proxy.url, 'echo.wallcrawler.test:7', 'x');
      expect(tunnel.head).toMatch(/^HTTP\/1\.1 502/);
      expect(proxy.lastError).toMatch(/refused the credentials/);
    } finally {
      await proxy.close();
    }
  });

  it('checks a proxy without reaching any site: wrong credentials and an unreachable proxy throw, right ones pass', async () => {
    const before = upstream.requests.length;
    await expect(checkProxy(external())).resolves.toBeUndefined();
    const refused = await checkProxy(external('wrong')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UpstreamProxyError);
    expect((refused as UpstreamProxyError).status).toBe(407);
    const unreachable = await checkProxy({ kind: 'external', server: new URL('http://127.0.0.1:9') }).catch(
      (e: unknown) => e,
    );
    expect(unreachable).toBeInstanceOf(UpstreamProxyError);
    expect((unreachable as Error).message).toMatch(/could not be reached/);
    // The checks asked for a host that cannot exist.
    expect(upstream.requests.slice(before).map((r) => r.target)).toEqual([
      'wallcrawler-proxy-check.invalid:443',
      'wallcrawler-proxy-check.invalid:443',
    ]);
  });
});
