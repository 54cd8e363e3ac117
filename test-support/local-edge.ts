/**
 * The stack's connect edge on this machine: a TLS front with a throwaway CA (CloudFront's stand-in) in front of
 * the gateway service's real entry command. The front is started first, so the edge is told its public base; the
 * CA and the front's certificate live in a directory of their own, removed at `close()`.
 */
import { EDGE_ENV } from '@wallcrawler/contracts';
import { type EdgeProcess, startEdgeProcess } from './edge-process.js';
import { tempDir } from './index.js';
import { issueServerCertificate, makeThrowawayCa, type ThrowawayCa } from './throwaway-ca.js';
import { startTlsFront, type TlsFront } from './tls-front.js';

export interface LocalEdgeOptions {
  /** The controller image's `/app`, whose `dist/edge/main.js` the gateway service runs. */
  appDir: string;
  /** The API's front door, behind the TLS front for every path that is not a connect path. */
  api: () => string;
  /** Headers the front adds to the API's requests (the stack's origin secret). */
  apiHeaders?: Record<string, string>;
  /** The edge's environment, but for its port and public base (set here). */
  env: Record<string, string>;
  /** The TLS front's port on 127.0.0.1. @default 0 (any free one) */
  port?: number;
  /** `WALLCRAWLER_EDGE_PING_MS`. @default the edge's (60 s) */
  pingMs?: number | undefined;
  /** The TLS front drops a WebSocket idle this long (CloudFront: 10 minutes). @default 600_000 */
  idleTimeoutMs?: number | undefined;
  /** A CA made beforehand (one the clients' process already trusts). @default one made here */
  ca?: ThrowawayCa | undefined;
  onOutput?: (chunk: string) => void;
}

export interface LocalEdge {
  /** The CA's certificate: what `NODE_EXTRA_CA_CERTS` names. */
  caPath: string;
  front: TlsFront;
  process: EdgeProcess;
  close(): Promise<void>;
}

export async function startLocalEdge({
  appDir,
  api,
  apiHeaders,
  env,
  port = 0,
  pingMs,
  idleTimeoutMs,
  ca: givenCa,
  onOutput,
}: LocalEdgeOptions): Promise<LocalEdge> {
  const dir = tempDir('wc-edge-');
  let front: TlsFront | undefined;
  try {
    const ca = givenCa ?? makeThrowawayCa(dir.path);
    let edge: EdgeProcess | undefined;
    front = await startTlsFront({
      ...issueServerCertificate(ca, dir.path),
      api,
      ...(apiHeaders ? { apiHeaders } : {}),
      // Until the edge is up, nothing is routed to it (the front is not handed out yet).
      edge: () => edge?.url() ?? api(),
      port,
      ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
    });
    edge = await startEdgeProcess({
      appDir,
      env: {
        ...env,
        [EDGE_ENV.host]: '127.0.0.1',
        [EDGE_ENV.publicUrl]: front.url,
        ...(pingMs !== undefined ? { [EDGE_ENV.pingMs]: String(pingMs) } : {}),
      },
      ...(onOutput ? { onOutput } : {}),
    });
    const running = edge;
    const started = front;
    return {
      caPath: ca.certPath,
      front: started,
      process: running,
      async close() {
        await running.stop();
        await started.close();
        dir.remove();
      },
    };
  } catch (error) {
    await front?.close();
    dir.remove();
    throw error;
  }
}
