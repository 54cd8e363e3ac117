import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { ProxyRoute } from '@wallcrawler/contracts';

/**
 * A session's proxy routes, passwords included, as they travel from the API to the browser's task in AWS: in the
 * task's environment (a task started for the session) or on the session's item (a warm-pool task that claims
 * it). Both are readable by more people than should see a proxy password (`ecs:DescribeTasks`, a table scan),
 * so the routes are sealed: AES-256-GCM under a key derived (HKDF) from the connect-token secret, which the API
 * and the tasks already share, and bound to the session's id, so a sealed value copied to another session does
 * not open.
 */

const VERSION = 'v1';
const INFO = 'wallcrawler proxy routes v1';

interface RouteJson {
  kind: 'external' | 'none';
  server?: string;
  username?: string;
  password?: string;
  /** The pattern's source and flags. */
  pattern?: [string, string];
}

function keyFrom(secret: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), INFO, 32));
}

/** The routes sealed for `sessionId`: `v1.<base64url of iv, tag and ciphertext>`. */
export function sealProxyRoutes(secret: Uint8Array, sessionId: string, routes: readonly ProxyRoute[]): string {
  const json: RouteJson[] = routes.map((route) => ({
    kind: route.kind,
    ...(route.pattern ? { pattern: [route.pattern.source, route.pattern.flags] as [string, string] } : {}),
    ...(route.kind === 'external'
      ? {
          server: route.server.href,
          ...(route.username !== undefined ? { username: route.username } : {}),
          ...(route.password !== undefined ? { password: route.password } : {}),
        }
      : {}),
  }));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFrom(secret), iv);
  cipher.setAAD(Buffer.from(sessionId));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(json), 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
}

/**
 * The routes `sealProxyRoutes` sealed for `sessionId`.
 * @throws Error when the value is not one, was sealed for another session or with another secret, or was altered
 */
export function openProxyRoutes(secret: Uint8Array, sessionId: string, sealed: string): ProxyRoute[] {
  const [version, body] = sealed.split('.');
  if (version !== VERSION || !body) throw new Error('The sealed proxy routes are not in a known format.');
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.length < 12 + 16) throw new Error('The sealed proxy routes are truncated.');
  let json: RouteJson[];
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFrom(secret), bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(sessionId));
    decipher.setAuthTag(bytes.subarray(12, 28));
    json = JSON.parse(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8'));
  } catch {
    throw new Error('The sealed proxy routes do not open with this secret for this session.');
  }
  return json.map((route): ProxyRoute => {
    const pattern = route.pattern ? new RegExp(route.pattern[0], route.pattern[1]) : undefined;
    if (route.kind === 'none') return { kind: 'none', pattern };
    if (!route.server) throw new Error('A sealed external proxy route has no server.');
    return {
      kind: 'external',
      server: new URL(route.server),
      username: route.username,
      password: route.password,
      pattern,
    };
  });
}
