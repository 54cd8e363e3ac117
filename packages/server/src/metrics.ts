import type { BrowserPool } from '@wallcrawler/controller';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SessionRecord } from './domain/model.js';
import type { HostAdmission } from './services/host-admission.js';

export interface ServerMetricsOptions {
  /** The sessions that are PENDING or RUNNING, read at each scrape. */
  activeSessions: () => Promise<SessionRecord[]>;
  admission?: HostAdmission | undefined;
  /** The warm pool, if this server keeps one. */
  pool?: BrowserPool | undefined;
}

let processRegistry: Registry | undefined;

/**
 * The process's own figures (CPU, memory, handles, event-loop lag, GC), collected once per process. prom-client
 * cannot stop them: its GC observer and event-loop histogram live as long as the process and hold the registry
 * they were given — so a registry per server would keep every closed server, and all it references, alive.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'wallcrawler_' });
  }
  return processRegistry;
}

/**
 * The server's Prometheus metrics (`GET /metrics`): sessions by status, create latency by stage, the host's
 * browser slots and queue, CDP traffic, rejections by code — in a registry of its own (several servers in one
 * process do not mix) — and the process's own figures, shared by every server in the process.
 */
export class ServerMetrics {
  /** This server's metrics and the process's: what `GET /metrics` serves. */
  readonly registry: Registry;
  readonly sessionsEnded: Counter<'status'>;
  readonly createSeconds: Histogram<'stage'>;
  readonly rejections: Counter<'code'>;
  readonly cdpBytes: Counter<'direction'>;
  readonly cdpConnections: Counter;
  readonly cdpMessages: Counter<'direction'>;

  constructor({ activeSessions, admission, pool }: ServerMetricsOptions) {
    const own = new Registry();
    const registers = [own];
    this.sessionsEnded = new Counter({
      name: 'wallcrawler_sessions_ended_total',
      help: 'Sessions whose ending was recorded, by final status.',
      labelNames: ['status'],
      registers,
    });
    this.createSeconds = new Histogram({
      name: 'wallcrawler_session_create_seconds',
      help: 'Time a create spent in each stage: admission (waiting for a browser slot), launch, total.',
      labelNames: ['stage'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.rejections = new Counter({
      name: 'wallcrawler_rejections_total',
      help: 'Requests answered with an error, by error code (validation_failed, concurrency_limit_exceeded, ...).',
      labelNames: ['code'],
      registers,
    });
    this.cdpBytes = new Counter({
      name: 'wallcrawler_cdp_bytes_total',
      help: 'Bytes through the connect gateway, counted when each connection closes.',
      labelNames: ['direction'],
      registers,
    });
    this.cdpMessages = new Counter({
      name: 'wallcrawler_cdp_messages_total',
      help: 'CDP messages (WebSocket messages) through the connect gateway, counted when each connection closes.',
      labelNames: ['direction'],
      registers,
    });
    this.cdpConnections = new Counter({
      name: 'wallcrawler_cdp_connections_total',
      help: 'CDP connections the connect gateway accepted and that have closed.',
      registers,
    });
    new Gauge({
      name: 'wallcrawler_sessions',
      help: 'Active sessions by status (PENDING, RUNNING).',
      labelNames: ['status'],
      registers,
      async collect() {
        const counts: Record<string, number> = { PENDING: 0, RUNNING: 0 };
        for (const session of await activeSessions()) counts[session.status] = (counts[session.status] ?? 0) + 1;
        this.reset();
        for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
      },
    });
    if (admission) {
      new Gauge({
        name: 'wallcrawler_host_browsers',
        help: 'Browser slots in use on this host.',
        registers,
        collect() {
          this.set(admission.stats.running);
        },
      });
      new Gauge({
        name: 'wallcrawler_host_browsers_max',
        help: 'Browsers this host runs at once (WALLCRAWLER_MAX_SESSIONS).',
        registers,
        collect() {
          this.set(admission.maxSessions);
        },
      });
      new Gauge({
        name: 'wallcrawler_create_queue_depth',
        help: 'Creates waiting for a browser slot.',
        registers,
        collect() {
          this.set(admission.stats.queued);
        },
      });
    }
    if (pool) {
      new Gauge({
        name: 'wallcrawler_pool_browsers',
        help: 'Warm-pool browsers by state: idle (ready to serve a session), starting, and the size it keeps (0 when off).',
        labelNames: ['state'],
        registers,
        collect() {
          const { idle, starting } = pool.stats;
          this.set({ state: 'idle' }, idle);
          this.set({ state: 'starting' }, starting);
          this.set({ state: 'target' }, pool.size);
        },
      });
      new Counter({
        name: 'wallcrawler_pool_takes_total',
        help: 'Sessions by how they got a browser: hit (a pooled one), miss_empty (the pool had none), miss_unfit (a context, an extension or a proxy to set up before the start), miss_viewport (the pool held no browser of its viewport, and replaces one for the next).',
        labelNames: ['result'],
        registers,
        collect() {
          // The pool keeps the counts; each scrape copies them.
          const { hits, misses } = pool.stats;
          this.reset();
          this.inc({ result: 'hit' }, hits);
          this.inc({ result: 'miss_empty' }, misses.empty);
          this.inc({ result: 'miss_unfit' }, misses.unfit);
          this.inc({ result: 'miss_viewport' }, misses.viewport);
        },
      });
    }
    // A new registry holding both sets: the process's metrics never refer to it, so it goes with this server.
    this.registry = Registry.merge([own, processMetrics()]);
  }

  /** Counts a closed CDP connection's bytes (its socket's counters) and messages. */
  connectionClosed(fromClient: number, toClient: number, messages: { fromClient: number; toClient: number }): void {
    this.cdpConnections.inc();
    this.cdpBytes.inc({ direction: 'from_client' }, fromClient);
    this.cdpBytes.inc({ direction: 'to_client' }, toClient);
    this.cdpMessages.inc({ direction: 'from_client' }, messages.fromClient);
    this.cdpMessages.inc({ direction: 'to_client' }, messages.toClient);
  }
}
