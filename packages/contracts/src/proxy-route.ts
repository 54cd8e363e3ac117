/**
 * Where a session's traffic to some hosts goes: through a proxy of the user's, or straight out. The API builds
 * these from a create's `proxies`; the browser's forward proxy follows them (locally, or in the session's task,
 * which receives them sealed).
 */
export type ProxyRoute =
  | {
      kind: 'external';
      /** An HTTP proxy: `http://host:port`. */
      server: URL;
      username?: string | undefined;
      password?: string | undefined;
      /** The hosts this route is for (the whole host name must match); every host when undefined. */
      pattern?: RegExp | undefined;
    }
  | { kind: 'none'; pattern?: RegExp | undefined };

/** A route through a proxy of the user's. */
export type ExternalProxyRoute = Extract<ProxyRoute, { kind: 'external' }>;
