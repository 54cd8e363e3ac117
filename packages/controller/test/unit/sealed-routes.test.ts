import { randomBytes } from 'node:crypto';
import { CONTROLLER_ENV as E, type ProxyRoute } from '@wallcrawler/contracts';
import { describe, expect, it } from 'vitest';
import { openProxyRoutes, sealProxyRoutes } from '../../src/proxy/sealed-routes.js';
import { loadControllerConfig } from '../../src/task/config.js';

const secret = randomBytes(32);
const routes: ProxyRoute[] = [
  {
    kind: 'external',
    server: new URL('http://proxy.example:3128'),
    username: 'crawler',
    password: 'hunter2-proxy',
    pattern: /^(?:.*\.example\.com)$/i,
  },
  { kind: 'none', pattern: /^(?:internal\.test)$/i },
  { kind: 'external', server: new URL('http://fallback.example:8080') },
];

describe('sealed proxy routes', () => {
  it('open to the same routes, patterns included, and hold no password in the clear', () => {
    const sealed = sealProxyRoutes(secret, 'session-1', routes);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('hunter2');
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain('hunter2');
    const opened = openProxyRoutes(secret, 'session-1', sealed);
    expect(opened).toEqual(routes);
    expect(opened[0]?.pattern?.test('shop.EXAMPLE.com')).toBe(true);
    // Two seals of the same routes differ (a fresh IV each time).
    expect(sealProxyRoutes(secret, 'session-1', routes)).not.toBe(sealed);
  });

  it('do not open for another session, with another secret, or once altered', () => {
    const sealed = sealProxyRoutes(secret, 'session-1', routes);
    expect(() => openProxyRoutes(secret, 'session-2', sealed)).toThrow(/do not open/);
    expect(() => openProxyRoutes(randomBytes(32), 'session-1', sealed)).toThrow(/do not open/);
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    expect(() => openProxyRoutes(secret, 'session-1', `v1.${bytes.toString('base64url')}`)).toThrow(/do not open/);
    expect(() => openProxyRoutes(secret, 'session-1', 'v2.abc')).toThrow(/known format/);
    expect(() => openProxyRoutes(secret, 'session-1', 'v1.abc')).toThrow(/truncated/);
  });

  it("reach a task's session settings through its environment, and a bad value is a configuration problem", () => {
    const env = {
      [E.connectSecret]: secret.toString('base64url'),
      [E.sessionId]: 'session-1',
      [E.projectId]: 'project-1',
      [E.expiresAt]: new Date(Date.now() + 60_000).toISOString(),
    };
    const config = loadControllerConfig({ ...env, [E.proxies]: sealProxyRoutes(secret, 'session-1', routes) });
    expect(config.proxies).toEqual(routes);
    expect(loadControllerConfig(env).proxies).toBeUndefined();
    expect(() =>
      loadControllerConfig({ ...env, [E.proxies]: sealProxyRoutes(secret, 'another-session', routes) }),
    ).toThrow(new RegExp(`${E.proxies}: The sealed proxy routes do not open`));
  });
});
